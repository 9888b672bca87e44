package supplygraph.neo4j;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * A Neo4j Community server for tests: the embedded DBMS with only the Bolt connector on.
 *
 * <p>Arguments (each falls back to an environment variable, then a default):
 * {@code --data-dir DIR} (NEO4J_DATA_DIR, ./.neo4j/data), {@code --host HOST} (NEO4J_HOST, 127.0.0.1),
 * {@code --port PORT} (NEO4J_PORT, 7687). Auth is on: user {@code neo4j}, password NEO4J_PASSWORD
 * (default "supplygraph-test"), set on every start. Page cache: NEO4J_PAGECACHE_MB (default 512).
 * Runs until SIGTERM/SIGINT, then shuts the DBMS down cleanly. Prints {@code READY <uri>} once the
 * password is set and Bolt accepts connections.
 */
public final class Neo4jLauncher {
    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(option(args, "--data-dir", "NEO4J_DATA_DIR", ".neo4j/data")).toAbsolutePath();
        String host = option(args, "--host", "NEO4J_HOST", "127.0.0.1");
        int port = Integer.parseInt(option(args, "--port", "NEO4J_PORT", "7687"));
        String password = option(args, "--password", "NEO4J_PASSWORD", "supplygraph-test");
        long pageCacheMb = Long.parseLong(option(args, "--pagecache-mb", "NEO4J_PAGECACHE_MB", "512"));
        if (password.length() < 8) {
            throw new IllegalArgumentException("NEO4J_PASSWORD must have at least 8 characters (Neo4j's minimum)");
        }
        Files.createDirectories(dataDir);

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(dataDir)
                .setUserLogProvider(new Log4jLogProvider(System.out, Level.INFO))
                .setConfig(GraphDatabaseSettings.data_directory, dataDir)
                .setConfig(GraphDatabaseSettings.logs_directory, dataDir.resolve("logs"))
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Test data is small: don't reserve 256 MiB of transaction log per database up front.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                // Keep ~256 MiB of transaction logs, not two days' worth (GBs after a few 100k-factory loads).
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "256M size")
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                // Internal (pinned-version) knob: each Bolt connector otherwise idles 5 s on shutdown.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .build();
        long builtMs = ManagementFactory.getRuntimeMXBean().getUptime();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("Neo4jLauncher: shutting down");
            dbms.shutdown();
            System.out.println("Neo4jLauncher: stopped");
            System.out.flush();
            stopped.countDown();
        }, "neo4j-shutdown"));

        try {
            setPassword(dbms, password);
        } catch (RuntimeException e) {
            System.out.println("Neo4jLauncher: could not set the password: " + e.getMessage());
            System.exit(1); // runs the shutdown hook
        }
        long readyMs = ManagementFactory.getRuntimeMXBean().getUptime();
        System.out.printf("READY bolt://%s:%d (JVM up %.1fs: DBMS started at %.1fs, password set in %.1fs)%n",
                host, port, readyMs / 1000.0, builtMs / 1000.0, (readyMs - builtMs) / 1000.0);
        System.out.flush();
        stopped.await();
    }

    /** Sets the neo4j user's password (no forced change); a no-op when it already is that password. */
    private static void setPassword(DatabaseManagementService dbms, String password) {
        try {
            dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
        } catch (RuntimeException e) {
            String message = String.valueOf(e.getMessage());
            if (!message.contains("Old password and new password cannot be the same")) {
                throw e;
            }
        }
    }

    private static String option(String[] args, String flag, String env, String fallback) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(flag)) {
                return args[i + 1];
            }
        }
        String value = System.getenv(env);
        return value == null || value.isEmpty() ? fallback : value;
    }
}
