package org.sangrah.infra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.Build;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.node.ClasspathNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;

/**
 * Runs one bare Elasticsearch 9 node in this JVM, for the test suite.
 *
 * <p>Usage: {@code ElasticsearchLauncher HOME_DIR [HTTP_PORT]}. The port defaults to
 * {@code SANGRAH_ELASTICSEARCH_PORT}, then 9250. Data and logs go under HOME_DIR. Once the node
 * serves HTTP, one line {@code READY http://HOST:PORT ...} is printed on stdout. SIGTERM (or
 * Ctrl-C) closes the node through a shutdown hook before the JVM exits; a node that cannot be
 * built or started exits 1, a bad command line exits 2.
 *
 * <p>"Bare": Elastic publishes on Maven Central only the server and its Netty transport, not the
 * other modules of the distribution (common analysis, Painless, reindex, the root endpoint...).
 * The node is built directly rather than through the distribution's bootstrap, which expects the
 * distribution's directory layout and installs the entitlement agent.
 */
public final class ElasticsearchLauncher {

    static final String CLUSTER_NAME = "sangrah-test";
    static final String NODE_NAME = "sangrah-es1";
    /** Clear of OpenSearch's 9300-9399, so both nodes can run side by side. */
    static final String TRANSPORT_PORTS = "9400-9499";

    /** Loaded by name so that a missing jar stops the launch instead of giving a node without HTTP. */
    static final List<String> PLUGIN_CLASSES = List.of("org.elasticsearch.transport.netty4.Netty4Plugin");

    private static final int EXIT_USAGE = 2;
    private static final int EXIT_START_FAILED = 1;
    private static final long CLOSE_TIMEOUT_SECONDS = 30;

    private ElasticsearchLauncher() {}

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            fail(EXIT_USAGE, "usage: ElasticsearchLauncher HOME_DIR [HTTP_PORT]"
                    + " (the port defaults to $SANGRAH_ELASTICSEARCH_PORT, then 9250)");
        }
        Path home = Path.of(args[0]).toAbsolutePath().normalize();
        String port = args.length == 2 ? args[1] : System.getenv().getOrDefault("SANGRAH_ELASTICSEARCH_PORT", "9250");
        if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
            fail(EXIT_USAGE, "HTTP port must be a number from 0 to 65535, got '" + port + "'");
        }

        // The server logs through its own facade; this binds it to log4j (configured by the
        // -Dlog4j.configurationFile the script passes), as the distribution's bootstrap does.
        LogConfigurator.configureESLogging();
        List<Class<? extends Plugin>> plugins = loadPlugins(PLUGIN_CLASSES);
        Node node;
        try {
            node = new ClasspathNode(prepareEnvironment(home, port), plugins);
        } catch (Exception e) {
            e.printStackTrace();
            fail(EXIT_START_FAILED, "could not build the node under " + home + ": " + e);
            return;
        }

        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> close(node, closed), "sangrah-elasticsearch-close"));
        try {
            node.start();
        } catch (Exception e) {
            e.printStackTrace();
            fail(EXIT_START_FAILED, "the node did not start: " + e);
        }

        String address = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress().toString();
        System.out.println("READY http://" + address + " version=" + Build.current().version() + " cluster=" + CLUSTER_NAME
                + " home=" + home + " plugins=" + plugins.stream().map(Class::getSimpleName).toList());
        System.out.flush();
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static List<Class<? extends Plugin>> loadPlugins(List<String> classNames) {
        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String name : classNames) {
            try {
                plugins.add(Class.forName(name).asSubclass(Plugin.class));
            } catch (ClassNotFoundException | ClassCastException e) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            fail(EXIT_START_FAILED, "plugin classes not on the classpath: " + missing
                    + "; check the plugin jars in infra/elasticsearch/pom.xml and rebuild with infra/elasticsearch.sh start");
        }
        return plugins;
    }

    static Environment prepareEnvironment(Path home, String httpPort) throws IOException {
        Path config = home.resolve("config");
        // Empty on purpose: the node must not look for bundles there.
        for (String dir : List.of("config", "plugins", "modules", "data", "logs")) {
            Files.createDirectories(home.resolve(dir));
        }
        Settings settings = Settings.builder()
                .put("cluster.name", CLUSTER_NAME)
                .put("node.name", NODE_NAME)
                .put("path.home", home.toString())
                .put("path.data", home.resolve("data").toString())
                .put("path.logs", home.resolve("logs").toString())
                .put("network.host", "127.0.0.1")
                .put("http.port", httpPort)
                .put("transport.port", TRANSPORT_PORTS)
                .put("http.type", "netty4")
                .put("transport.type", "netty4")
                .put("discovery.type", "single-node")
                .put("cluster.routing.allocation.disk.threshold_enabled", false)
                .put("action.auto_create_index", false)
                .build();
        return InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), config, () -> NODE_NAME);
    }

    private static void close(Node node, CountDownLatch closed) {
        try {
            node.close();
            if (!node.awaitClose(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                System.err.println("the node did not close within " + CLOSE_TIMEOUT_SECONDS + " s");
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("closing the node failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closed.countDown();
        }
    }

    private static void fail(int status, String message) {
        System.err.println("ElasticsearchLauncher: " + message);
        System.err.flush();
        System.exit(status);
    }
}
