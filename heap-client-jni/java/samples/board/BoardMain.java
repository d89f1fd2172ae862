package board;

/**
 * One JVM of the board sample (plain Java: without the agent it is one JVM's board). Usage:
 * <pre>
 * BoardMain produce NAME TASKS         submits TASKS tasks named NAME-1, NAME-2, ... over two topics
 * BoardMain consume NAME TOTAL         takes tasks (waiting for them) until TOTAL were taken by anyone,
 *                                      posts each result to its topic and marks it done
 * BoardMain report TOTAL               waits until TOTAL tasks are done and prints the board's counts
 * </pre>
 */
public final class BoardMain {
    private static final String[] TOPICS = {"news", "sports"};

    private BoardMain() {}

    public static void main(String[] args) throws InterruptedException {
        Board board = Board.ROOT;
        long started = System.nanoTime();
        switch (args[0]) {
            case "produce" -> {
                int tasks = Integer.parseInt(args[2]);
                for (int i = 1; i <= tasks; i++) {
                    board.submit(new Task(args[1] + "-" + i, TOPICS[i % TOPICS.length], i));
                }
                System.out.printf("producer %s: %d tasks submitted in %d ms%n", args[1], tasks, millis(started));
            }
            case "consume" -> {
                long total = Long.parseLong(args[2]);
                int handled = 0;
                for (Task task = board.take(total); task != null; task = board.take(total)) {
                    board.topic(task.topic).post(task.id + " -> " + task.payload * task.payload);
                    board.finish(task, args[1]);
                    handled++;
                }
                System.out.printf("consumer %s: %d tasks handled in %d ms%n", args[1], handled, millis(started));
            }
            case "report" -> {
                board.awaitDone(Long.parseLong(args[1]));
                System.out.println(board.report());
            }
            default -> throw new IllegalArgumentException("unknown role " + args[0]);
        }
    }

    private static long millis(long started) {
        return (System.nanoTime() - started) / 1_000_000;
    }
}
