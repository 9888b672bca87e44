"""Investigators' views in the browser: pages under /ui (api/ui/routes.py), networks drawn with pyvis/vis-network."""
