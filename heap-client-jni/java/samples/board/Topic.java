package board;

import java.util.ArrayList;
import java.util.List;

/** A topic of the {@link Board}: a shared object in the board's map, with a list guarded by the topic's own lock. */
public class Topic {
    final String name;
    List<String> posts = new ArrayList<>();

    Topic(String name) {
        this.name = name;
    }

    synchronized void post(String text) {
        posts.add(text);
    }

    synchronized int size() {
        return posts.size();
    }
}
