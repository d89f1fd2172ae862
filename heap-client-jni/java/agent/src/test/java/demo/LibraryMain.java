package demo;

/**
 * One JVM of the annotation tests (plain Java, no Sovereign import; annotations only), driving
 * {@link Library} and {@link Brittle}. Usage:
 * <pre>
 * LibraryMain add WHO COUNT      prints the library as loaded, adds WHO-1 .. WHO-COUNT, prints it again
 * LibraryMain show               prints the library
 * LibraryMain read-lock          writes a shared field in an @AutolockRead method; prints the error
 * LibraryMain brittle-make       assigns Brittle.ROOT
 * LibraryMain brittle-read       reads Brittle.ROOT twice, printing the error of the first read
 * </pre>
 */
public final class LibraryMain {
    private LibraryMain() {}

    public static void main(String[] args) {
        switch (args[0]) {
            case "add" -> {
                Library library = Library.ROOT;
                System.out.println("before " + library.describe());
                for (int i = 1; i <= Integer.parseInt(args[2]); i++) {
                    library.add(args[1] + "-" + i, args[1]);
                }
                System.out.println("after " + library.describe());
            }
            case "show" -> System.out.println("show " + Library.ROOT.describe());
            case "read-lock" -> {
                try {
                    Library.ROOT.renameUnderReadLock("intruder");
                    System.out.println("no error");
                } catch (RuntimeException e) {
                    System.out.println("error " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
                System.out.println("show " + Library.ROOT.describe());
            }
            case "brittle-make" -> {
                Brittle.ROOT = new Brittle();
                System.out.println("made " + Brittle.ROOT.describe());
            }
            case "brittle-read" -> {
                try {
                    System.out.println("first read " + Brittle.ROOT.describe());
                } catch (RuntimeException e) {
                    System.out.println("error " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
                System.out.println("second read " + Brittle.ROOT.describe());
            }
            default -> throw new IllegalArgumentException("unknown role " + args[0]);
        }
    }
}
