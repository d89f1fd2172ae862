package benchapp;

/** One item of a {@link Catalog}. */
public class Item {
    String name;
    long price;

    Item(String name, long price) {
        this.name = name;
        this.price = price;
    }
}
