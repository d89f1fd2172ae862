package benchapp;

/**
 * Run once (with the agent) before the benchmarks: shares {@link Account#ROOT} and the 1,000-object
 * {@link Catalog#ROOT}, so the benchmark JVMs load them from the heap as any other JVM would.
 */
public final class Setup {
    private Setup() {}

    public static void main(String[] args) {
        Account.ROOT = new Account("bench", 100);
        Catalog.ROOT = Catalog.of("bench");
        System.out.println("shared benchapp.Account.ROOT and benchapp.Catalog.ROOT (" + Catalog.ROOT.objects()
                + " objects)");
    }
}
