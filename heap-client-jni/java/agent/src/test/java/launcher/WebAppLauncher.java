package launcher;

import java.net.URL;
import java.net.URLClassLoader;

/**
 * Runs {@code webapp.GuestbookMain} the way a servlet container runs a web application: its classes
 * are defined by a child class loader of the application loader that looks at its own class path
 * first (Tomcat's web-app loader does, for the application's classes), so no {@code webapp} class
 * is ever defined by the application class loader although the same directory is on its class
 * path. Then prints what the other test agent ({@code otheragent.CountingAgent}) saw, if it runs.
 */
public final class WebAppLauncher {
    /** The classes the child loader defines itself. */
    static final String WEBAPP_PACKAGE = "webapp.";

    private WebAppLauncher() {}

    /** Child-first for {@link #WEBAPP_PACKAGE}, parent-first for everything else (the JDK, the agent). */
    static final class WebAppLoader extends URLClassLoader {
        WebAppLoader(URL[] classPath, ClassLoader parent) {
            super("webapp", classPath, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith(WEBAPP_PACKAGE)) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> loaded = findLoadedClass(name);
                if (loaded == null) {
                    loaded = findClass(name);
                }
                if (resolve) {
                    resolveClass(loaded);
                }
                return loaded;
            }
        }
    }

    public static void main(String[] args) throws Exception {
        URL classes = WebAppLauncher.class.getProtectionDomain().getCodeSource().getLocation();
        try (WebAppLoader loader = new WebAppLoader(new URL[] {classes}, WebAppLauncher.class.getClassLoader())) {
            Class<?> main = Class.forName("webapp.GuestbookMain", true, loader);
            main.getMethod("main", String[].class).invoke(null, (Object) args);
        }
        System.out.println("other agent " + System.getProperty("otheragent.started", "absent") + ", saw webapp classes "
                + System.getProperty("otheragent.webapp.classes", "none"));
    }
}
