"""How real lists write one place or one name in several ways, each with a counter-case that must stay apart:
admin abbreviations and a country named at the end of an address, an address naming the country only (its
coordinates geocoded to the country's centre), ordinals, word forms of trade words, a typed "ll" for "II",
a record giving two names, a German compound cut short before "und", and abbreviated titles. Invented names."""

from __future__ import annotations

from supplygraph.loaders.resolve.features import features, name_tokens, stem, without_country

from tests.test_resolution import node_of, resolve

# Other factories of the same list in the same province: the province's name is common, so it says little
PROVINCE = [
    {"name": f"PT {w} Garmindo", "address": f"Jl. {w} No. {i}, Kec. {k}, Kabupaten {k}, Jawa Kidul, Indonesia",
     "country": "ID"}
    for i, (w, k) in enumerate([("Sinar", "Klaten"), ("Mekar", "Sragen"), ("Cahaya", "Boyolali"), ("Tunas", "Pati"),
                                ("Abadi", "Kudus"), ("Prima", "Jepara"), ("Sentosa", "Rembang")], start=3)
]  # fmt: skip


def test_words_of_a_kind_of_place_and_the_country_at_the_end_say_nothing() -> None:
    full = "Jalan Raya Kendari-Demara KM 18, Desa Dukuh Kec. Karang Kidul Kabupaten Demara"
    rows = [
        {"name": "PT Bright Industrial Kendari-Demara", "address": full, "lat": -6.9229, "lng": 110.5808},
        {"name": "PT. Bright Industrial Kendari - Demara Ltd.", "address": "Kab Demara Jawa Kidul Indonesia",
         "lat": -6.9238, "lng": 110.6645},
        {"name": "PT Bright Industrial Kendari-Demara", "address": "Kab Bawara Jawa Kidul Indonesia",
         "lat": -7.2110, "lng": 110.4158},  # another regency
    ]  # fmt: skip
    nodes, _ = node_of([{**r, "country": "ID"} for r in rows] + PROVINCE)
    assert nodes[0] == nodes[1] != nodes[2]
    assert without_country(("hai", "duong", "viet", "nam"), "VN") == ("hai", "duong")
    assert without_country(("guatemala", "city"), "GT") == ("guatemala", "city")  # only at the end, only its own


def test_coordinates_of_an_address_naming_only_the_country_are_not_evidence() -> None:
    rec = {"id": "x", "name": "Eastbay Saigon", "address": "Vietnam.", "country": "VN", "lat": 14.05, "lng": 108.27}
    assert features("Factory", rec).point is None
    assert features("Factory", {**rec, "address": "Street 6, Song Than IP"}).point == (14.05, 108.27)
    assert features("Factory", {**rec, "address": None}).point == (14.05, 108.27)  # only coordinates given


def test_a_unit_number_typed_with_letters_l_is_a_roman_number() -> None:
    assert name_tokens("Eastbay Saigon ll") == name_tokens("Eastbay Saigon II") == ("eastbay", "saigon", "2")
    assert name_tokens("Eastbay Saigon Two Corporation") == ("eastbay", "saigon", "2")
    site = {"name": "Eastbay Saigon ll", "address": "Street 06, Song Than I IP, Di An District", "country": "VN",
            "lat": 10.8964, "lng": 106.7527}  # fmt: skip
    nodes, _ = node_of([site, {"name": "Eastbay Saigon Two Corporation", "address": "Vietnam.", "country": "VN",
                               "lat": 14.0583, "lng": 108.2771}, {**site, "name": "Eastbay Saigon lll"}])  # fmt: skip
    assert nodes[0] == nodes[1] != nodes[2]


def test_ordinals_and_word_forms_of_one_trade() -> None:
    assert stem("knitting") == stem("knitwear") == "knit"
    assert stem("garments") == "garment" and stem("works") == "works" and stem("xing") == "xing"
    rows = [
        {"name": "Lanxi Yi Jun Knitting Co Ltd", "address": "No. 38 Changsheng Street, Southern District, Lanxi"},
        {"name": "Lan Xi City Yi Jun Knitwear Co. Ltd.",
         "address": "No.38 Changsheng Road 2nd Industrial Area Southern District Lan Xi City China"},
        {"name": "Lanxi Yi Jun Knitwear Co. Ltd.", "address": "No. 96 Changsheng Road, Northern District, Lanxi"},
    ]  # fmt: skip
    nodes, _ = node_of([{**r, "country": "CN", "lat": 22.5175, "lng": 113.3927} for r in rows[:2]] + [
        {**rows[2], "country": "CN", "lat": 22.61, "lng": 113.52}])  # fmt: skip
    assert nodes[0] == nodes[1] != nodes[2]


def test_a_record_giving_two_names_meets_each() -> None:
    road = "Km 16.5 Carretera a San Juan Sacatepequez, Parque Industrial Mixco Norte, Mixco"
    rows = [
        {"name": "Tela Norte S.A. / El Trazo Azul S.A.", "address": f"{road}. Bodega C10-C11. Guatemala."},
        {"name": "Tela Norte S.A.", "address": "KM 16.5 Carretera A San Juan Scatepequez, Lote C10-11, Mixco, 1006"},
        {"name": "El Trazo Azul S.A.", "address": "Calle 5 12-40 Zona 1, Quetzaltenango"},  # another town
    ]  # fmt: skip
    nodes, _ = node_of([{**r, "country": "GT"} for r in rows])
    assert nodes[0] == nodes[1] != nodes[2]


def test_a_compound_cut_short_before_und_and_abbreviated_titles() -> None:
    rows = [
        {"name": "Verband der Holz- und Kunststoffindustrie Nordmark e.V.", "address": "Lindenweg 22-24",
         "city": "Kiel", "postal_code": "24103"},
        {"name": "Verband der Holzindustrie und Kunststoffindustrie Nordmark", "address": "Lindenweg 22-24",
         "city": "Kiel", "postal_code": "24103"},
        {"name": "Verband der Holzindustrie und Kunststoffindustrie Nordmark", "address": "Hafenstraße 3",
         "city": "Lübeck", "postal_code": "23552"},
        {"name": "Dr. Ing. h. c. F. Quellwerk AG", "address": "Quellplatz 1", "city": "Kiel", "postal_code": "24105"},
        {"name": "Quellwerk AG", "address": "Quellplatz 1", "city": "Kiel", "postal_code": "24105"},
        {"name": "Quellwerk AG", "address": "Quellplatz 1", "city": "Lübeck", "postal_code": "23552"},
    ]  # fmt: skip
    found, _ = resolve("Company", [{**r, "country": "DE"} for r in rows])
    assert found["R0"] == found["R1"] != found["R2"]
    assert found["R3"] == found["R4"] != found["R5"]
    assert name_tokens("Dr. Ing. h. c. F. Quellwerk AG") == ("quellwerk",)
    assert name_tokens("ING Bank N.V.") == ("ing", "bank")  # a name, not a title: no dot
