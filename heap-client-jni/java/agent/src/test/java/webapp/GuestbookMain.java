package webapp;

import java.util.List;

/**
 * The web application's entry point, called by {@code launcher.WebAppLauncher} through its loader.
 * Usage: {@code sign WHO COUNT} (signs WHO-1 .. WHO-COUNT) or {@code await COUNT}; either prints which
 * loader defined the guestbook class, then the entries once there are at least as many as expected.
 */
public final class GuestbookMain {
    private GuestbookMain() {}

    public static void main(String[] args) throws InterruptedException {
        Guestbook book = Guestbook.ROOT;
        System.out.println("loader " + Guestbook.class.getClassLoader().getName());
        int expected;
        if (args[0].equals("sign")) {
            expected = Integer.parseInt(args[2]);
            for (int i = 1; i <= expected; i++) {
                book.sign(args[1] + "-" + i);
            }
        } else {
            expected = Integer.parseInt(args[1]);
        }
        List<String> entries = book.awaitEntries(expected);
        System.out.println("entries " + entries.size() + " " + entries);
    }
}
