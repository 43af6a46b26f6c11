package org.sangrah.infra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.ExtensiblePlugin;
import org.opensearch.plugins.Plugin;

/**
 * Runs one OpenSearch 2.19 node in this JVM, for the test suite.
 *
 * <p>Usage: {@code OpenSearchLauncher HOME_DIR [HTTP_PORT]}. The port defaults to
 * {@code SANGRAH_OPENSEARCH_PORT}, then 9200. Data and logs go under HOME_DIR. Once the node
 * serves HTTP, one line {@code READY http://HOST:PORT ...} is printed on stdout. SIGTERM (or
 * Ctrl-C) closes the node through a shutdown hook before the JVM exits; a node that cannot be
 * built or started exits 1, a bad command line exits 2.
 *
 * <p>The node is built directly rather than through the distribution's bootstrap: that path
 * installs a SecurityManager and reads each module's descriptor and policy files, which exist
 * only inside the distribution archive, not in the Maven jars. Plugins are handed over as
 * classes instead ("classpath plugins").
 */
public final class OpenSearchLauncher {

    static final String CLUSTER_NAME = "sangrah-test";
    static final String NODE_NAME = "sangrah-os1";

    static final String PAINLESS_CLASS = "org.opensearch.painless.PainlessPlugin";

    /**
     * The modules and plugins the node runs with, by class name. Loaded by name so that a jar
     * missing from the classpath stops the launch instead of giving a node without HTTP or
     * without an analyzer (these names changed at 3.0: keep them matched to the jars).
     */
    static final List<String> PLUGIN_CLASSES = List.of(
            "org.opensearch.transport.Netty4Plugin",
            "org.opensearch.analysis.common.CommonAnalysisPlugin",
            PAINLESS_CLASS,
            "org.opensearch.index.reindex.ReindexPlugin",
            "org.opensearch.index.mapper.MapperExtrasPlugin",
            "org.opensearch.plugin.analysis.icu.AnalysisICUPlugin");

    private static final int EXIT_USAGE = 2;
    private static final int EXIT_START_FAILED = 1;
    private static final long CLOSE_TIMEOUT_SECONDS = 30;

    private OpenSearchLauncher() {}

    /** The protected constructor is the one that takes classpath plugins. */
    private static final class ClasspathNode extends Node {
        ClasspathNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            fail(EXIT_USAGE, "usage: OpenSearchLauncher HOME_DIR [HTTP_PORT]"
                    + " (the port defaults to $SANGRAH_OPENSEARCH_PORT, then 9200)");
        }
        Path home = Path.of(args[0]).toAbsolutePath().normalize();
        String port = args.length == 2 ? args[1] : System.getenv().getOrDefault("SANGRAH_OPENSEARCH_PORT", "9200");
        if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
            fail(EXIT_USAGE, "HTTP port must be a number from 0 to 65535, got '" + port + "'");
        }

        List<Class<? extends Plugin>> plugins = loadPlugins(PLUGIN_CLASSES);
        Node node;
        try {
            loadPainlessExtensions(plugins);
            node = new ClasspathNode(prepareEnvironment(home, port), plugins);
        } catch (Exception e) {
            e.printStackTrace();
            fail(EXIT_START_FAILED, "could not build the node under " + home + ": " + e);
            return;
        }

        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> close(node, closed), "sangrah-opensearch-close"));
        try {
            node.start();
        } catch (Exception e) {
            e.printStackTrace();
            // exit() runs the shutdown hook, which closes what start() had opened.
            fail(EXIT_START_FAILED, "the node did not start: " + e);
        }

        String address = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress().toString();
        System.out.println("READY http://" + address + " cluster=" + CLUSTER_NAME + " home=" + home
                + " plugins=" + plugins.stream().map(Class::getSimpleName).toList());
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
                    + "; check the plugin jars in infra/opensearch/pom.xml and rebuild with infra/opensearch.sh start");
        }
        return plugins;
    }

    /**
     * The server hands extensions only to plugins it loads from a plugin directory, so a classpath
     * Painless would miss the whitelist analysis-common contributes (the {@code analysis} script
     * context of the {@code condition} and {@code predicate_token_filter} token filters).
     * Painless keeps its whitelists in a static map: registering them once through a throwaway
     * instance gives the node's own instance the same whitelists as in the distribution.
     */
    static void loadPainlessExtensions(List<Class<? extends Plugin>> plugins) throws ReflectiveOperationException {
        for (Class<? extends Plugin> type : plugins) {
            if (type.getName().equals(PAINLESS_CLASS)) {
                ((ExtensiblePlugin) type.getDeclaredConstructor().newInstance()).loadExtensions(new ClasspathExtensions());
            }
        }
    }

    /** Extensions found on the classpath through {@code META-INF/services}, as the plugin loader would. */
    private static final class ClasspathExtensions implements ExtensiblePlugin.ExtensionLoader {
        @Override
        public <T> List<T> loadExtensions(Class<T> extensionPointType) {
            return ServiceLoader.load(extensionPointType, OpenSearchLauncher.class.getClassLoader()).stream()
                    .map(ServiceLoader.Provider::get)
                    .toList();
        }
    }

    static Environment prepareEnvironment(Path home, String httpPort) throws IOException {
        Path config = home.resolve("config");
        // Empty on purpose: jars in plugins/ or modules/ would be scanned for descriptors and jar hell.
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
                .put("transport.port", "9300-9399")
                .put("http.type", "netty4")
                .put("transport.type", "netty4")
                .put("discovery.type", "single-node")
                // Test machines' disks are often past the 85/90/95 % watermarks, which would leave
                // shards unassigned or indices read-only for reasons unrelated to the test.
                .put("cluster.routing.allocation.disk.threshold_enabled", false)
                // A write to a mistyped index name must fail, not quietly create a new index.
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
        System.err.println("OpenSearchLauncher: " + message);
        System.err.flush();
        System.exit(status);
    }
}
