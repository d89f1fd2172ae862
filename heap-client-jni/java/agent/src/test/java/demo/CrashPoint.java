package demo;

/**
 * A test hook of the demo application (not of the agent): with {@code -Ddemo.pauseAtIncrement=N},
 * the JVM's N-th {@link Counter#inc} prints {@code paused inside inc} and sleeps inside the
 * method, after {@code count++} and before {@code log.add}, holding the counter's lock, until the
 * test kills the JVM. Without the property it does nothing.
 */
final class CrashPoint {
    static final String PROPERTY = "demo.pauseAtIncrement";
    private static final long PAUSE_AT = Long.getLong(PROPERTY, -1);
    /** Increments this JVM started (the hook counts its own, not the shared count). */
    private static long started;

    private CrashPoint() {}

    static void reached(long sharedCount) {
        if (PAUSE_AT < 0 || ++started != PAUSE_AT) {
            return;
        }
        System.out.println("paused inside inc " + started + " (shared count " + sharedCount + "), " + (started - 1)
                + " incs returned");
        System.out.flush();
        while (true) {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                // keep holding the lock until killed
            }
        }
    }
}
