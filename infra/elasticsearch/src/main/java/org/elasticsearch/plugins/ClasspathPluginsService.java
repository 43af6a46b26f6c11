package org.elasticsearch.plugins;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.elasticsearch.Build;
import org.elasticsearch.action.admin.cluster.node.info.PluginsAndModules;
import org.elasticsearch.env.Environment;

/**
 * A plugins service whose plugins are classes already on the application class path, instead of
 * bundles found under {@code modules/} and {@code plugins/}.
 *
 * <p>It lives in this package because the record the server keeps for each loaded plugin and the
 * plugins loader's constructor are package-private. The bundle path is not usable with the Maven
 * jars: it builds a module layer per plugin and expects the distribution's directory layout.
 */
public final class ClasspathPluginsService extends PluginsService {

    private final List<LoadedPlugin> classpathPlugins;

    public ClasspathPluginsService(Environment environment, Collection<Class<? extends Plugin>> pluginClasses) {
        super(environment.settings(), environment.configDir(), emptyLoader());
        List<LoadedPlugin> loaded = new ArrayList<>();
        for (Class<? extends Plugin> type : pluginClasses) {
            Plugin instance = loadPlugin(type, environment.settings(), environment.configDir());
            PluginDescriptor descriptor = new PluginDescriptor(
                    type.getSimpleName(),
                    "classpath plugin",
                    "NA",
                    Build.current().version(),
                    Integer.toString(Runtime.version().feature()),
                    type.getName(),
                    null,
                    List.of(),
                    false,
                    false,
                    false,
                    false,
                    PluginDescriptor.DeploymentTarget.ALL);
            loaded.add(new LoadedPlugin(descriptor, instance, type.getClassLoader()));
        }
        this.classpathPlugins = List.copyOf(loaded);
    }

    /**
     * A loader with no bundles. Its public factory cannot be used on the class path: it reads the
     * server's module descriptor, which the server jar has only when run as a named module.
     */
    public static PluginsLoader emptyLoader() {
        return new PluginsLoader(Set.of(), Set.of(), Map.of());
    }

    @Override
    protected List<LoadedPlugin> plugins() {
        return classpathPlugins;
    }

    @Override
    public PluginsAndModules info() {
        return new PluginsAndModules(classpathPlugins.stream().map(p -> new PluginRuntimeInfo(p.descriptor())).toList(), List.of());
    }

    /**
     * Every plugin here shares one class loader, so the per-plugin service lookup of the base
     * class would find each provider once per plugin; keep one instance per provider class.
     */
    @Override
    public <T> List<? extends T> loadServiceProviders(Class<T> service) {
        Map<Class<?>, T> byClass = new LinkedHashMap<>();
        for (T provider : super.loadServiceProviders(service)) {
            byClass.putIfAbsent(provider.getClass(), provider);
        }
        return List.copyOf(byClass.values());
    }
}
