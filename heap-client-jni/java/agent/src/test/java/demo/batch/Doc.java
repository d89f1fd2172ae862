package demo.batch;

/** One small document of an {@link Archive}. */
public class Doc {
    String title;
    long pages;

    Doc(String title, long pages) {
        this.title = title;
        this.pages = pages;
    }
}
