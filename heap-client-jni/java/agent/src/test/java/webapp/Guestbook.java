package webapp;

import java.util.ArrayList;
import java.util.List;
import org.sovereign.annotations.Root;

/**
 * A web application's shared state, loaded by a child-first class loader as a servlet container's
 * web-app loader would ({@code launcher.WebAppLauncher}), never by the application class loader.
 * Its root is declared by {@code @Root}, so the agent reads the annotation through that loader too.
 */
public class Guestbook {
    @Root
    static Guestbook ROOT = new Guestbook();

    List<String> entries = new ArrayList<>();

    synchronized void sign(String who) {
        entries.add(who);
        notifyAll();
    }

    /** Waits until the book has {@code count} entries; returns them. */
    synchronized List<String> awaitEntries(int count) throws InterruptedException {
        while (entries.size() < count) {
            wait();
        }
        return new ArrayList<>(entries);
    }
}
