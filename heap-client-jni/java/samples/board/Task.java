package board;

/** A unit of work on the {@link Board}'s queue: a shared object, loaded in whichever JVM takes it. */
public class Task {
    String id;
    String topic;
    int payload;

    Task(String id, String topic, int payload) {
        this.id = id;
        this.topic = topic;
        this.payload = payload;
    }
}
