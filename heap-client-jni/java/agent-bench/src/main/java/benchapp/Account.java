package benchapp;

/**
 * The application class the field benchmarks read and write (plain Java, instrumented by the
 * agent through {@code benchapp.**}): {@code ROOT} is shared (assigned by {@link Setup}, loaded
 * from the heap in the benchmark JVM); {@code new Account()} elsewhere stays unshared.
 */
public class Account {
    public static Account ROOT;

    long balance;
    String owner;

    public Account() {}

    /** The root, read in instrumented code (a root read elsewhere is a plain static read). */
    public static Account root() {
        return ROOT;
    }

    public Account(String owner, long balance) {
        this.owner = owner;
        this.balance = balance;
    }

    /** A plain read of a field (in instrumented code, as application code reads it). */
    public long balance() {
        return balance;
    }

    /** A plain write of a field (rewritten: recorded for the commit when the account is shared). */
    public void setBalance(long balance) {
        this.balance = balance;
    }
}
