import java.util.concurrent.locks.Lock;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;

/**
 * Sample: a counter shared by several JVMs. Each JVM adds 1 to the field {@code count} of root
 * {@code NAME}, {@code INCREMENTS} times, each time under the cluster lock {@code NAME-lock}, so no
 * increment is lost however many JVMs run at once. With {@code read} instead of a number it prints
 * the count. Run it as a single source file with the client jar
 * ({@code heap-client-jni/java/client/target/heap-client-0.1.0.jar}, built by
 * {@code heap-client-jni/java/build.sh}) on the class path:
 *
 * <pre>
 * java -cp heap-client-0.1.0.jar Counter.java 127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103 hits 100
 * java -cp heap-client-0.1.0.jar Counter.java 127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103 hits read
 * </pre>
 */
public final class Counter {
    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: Counter ENDPOINTS NAME INCREMENTS|read");
            System.exit(2);
        }
        String name = args[1];
        try (HeapClient heap = HeapClient.connect(args[0])) {
            HeapObject counter = heap.root(name);
            Lock lock = heap.lock(name + "-lock");
            if (args[2].equals("read")) {
                lock.lock(); // the holder sees every increment committed before
                try {
                    System.out.println(counter.getLong("count"));
                } finally {
                    lock.unlock();
                }
                return;
            }
            int increments = Integer.parseInt(args[2]);
            long started = System.nanoTime();
            for (int i = 0; i < increments; i++) {
                lock.lock();
                try {
                    counter.set("count", counter.getLong("count") + 1);
                } finally {
                    lock.unlock(); // commits the increment
                }
            }
            System.out.printf("pid %d: %d increments in %d ms%n", ProcessHandle.current().pid(), increments,
                    (System.nanoTime() - started) / 1_000_000);
        }
    }
}
