package org.sovereign.rap.it;

import demo.orders.TestIds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.function.Supplier;
import org.openqa.selenium.By;
import org.openqa.selenium.ElementClickInterceptedException;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's chromium, headless, driven through Debian's chromedriver by Selenium, with helpers for RAP
 * pages: widgets are found by their test id (see {@link TestIds}) with RAP's public client API. Both
 * binaries are given explicitly (driver executable and browser binary), so Selenium Manager never runs
 * and nothing is downloaded.
 */
final class HeadlessChromium implements AutoCloseable {
    /** Longest wait for the page to show what a step expects (a server round trip and a render). */
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(20);
    static final Duration PAGE_LOAD_TIMEOUT = Duration.ofSeconds(30);
    static final String WINDOW_SIZE = "1280,900";
    /**
     * The DOM id of the widget whose RAP widget data {@code testid} is arguments[0], or null: with
     * org.eclipse.rap.rwt.enableUITests each widget's element has the widget's id, and rap.getObject
     * (RAP's public client API) gives its data.
     */
    private static final String FIND_BY_TEST_ID = String.join("\n",
            "var nodes = document.querySelectorAll('[id]');",
            "for (var i = 0; i < nodes.length; i++) {",
            "  var object = window.rap ? rap.getObject(nodes[i].id) : null;",
            "  if (object && typeof object.getData === 'function'",
            "      && object.getData('" + TestIds.DATA_KEY + "') === arguments[0]) {",
            "    return nodes[i].id;",
            "  }",
            "}",
            "return null;");

    /** The id of the outermost element with a RAP widget id around arguments[0] (its shell's element). */
    private static final String OUTERMOST_WIDGET_ID = String.join("\n",
            "var outermost = null;",
            "for (var node = arguments[0]; node; node = node.parentElement) {",
            "  if (/^w[0-9]+$/.test(node.id || '')) { outermost = node.id; }",
            "}",
            "return outermost;");

    private final ChromeDriver driver;

    private HeadlessChromium(ChromeDriver driver) {
        this.driver = driver;
    }

    /** Starts chromium with a fresh profile in {@code workDir}; the driver logs to workDir/chromedriver.log. */
    static HeadlessChromium start(Path workDir) throws IOException {
        Path chromium = TestPaths.required("sovereign.chromium.binary", "apt-get install chromium");
        Path chromedriver = TestPaths.required("sovereign.chromedriver.binary", "apt-get install chromium-driver");
        Path profile = Files.createTempDirectory(workDir, "chromium-profile-");
        // Selenium's DriverFinder asks Selenium Manager (which downloads) only if neither the service's
        // executable nor this property names a driver; both do.
        System.setProperty(ChromeDriverService.CHROME_DRIVER_EXE_PROPERTY, chromedriver.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=" + WINDOW_SIZE, "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.toFile())
                .usingAnyFreePort()
                .withLogFile(workDir.resolve("chromedriver.log").toFile())
                .build();
        long startedNanos = System.nanoTime();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(PAGE_LOAD_TIMEOUT);
        System.out.printf("[chromium] %s started after %.1f s%n", driver.getCapabilities().getBrowserVersion(),
                (System.nanoTime() - startedNanos) / 1e9);
        return new HeadlessChromium(driver);
    }

    void open(String url) {
        driver.get(url);
    }

    /** Waits until the widget with test id {@code testId} is on the page and returns its element. */
    WebElement widget(String testId) {
        return await("no widget with test id " + testId + " on the page", () -> find(testId));
    }

    /** The element of the widget with test id {@code testId}, or null if the page has none (yet). */
    private WebElement find(String testId) {
        String id = (String) ((JavascriptExecutor) driver).executeScript(FIND_BY_TEST_ID, testId);
        return id == null ? null : driver.findElement(By.id(id));
    }

    /**
     * Polls {@code condition} until it yields non-null, failing with {@code what} after
     * {@link #STEP_TIMEOUT}; an element RAP replaced between two calls is looked up again.
     */
    private <T> T await(String what, Supplier<T> condition) {
        return new WebDriverWait(driver, STEP_TIMEOUT).withMessage(what)
                .ignoring(StaleElementReferenceException.class).until(browser -> condition.get());
    }

    /** The RAP widget id (w2, w3, ...) of the widget with test id {@code testId}. */
    String widgetId(String testId) {
        return widget(testId).getDomAttribute("id");
    }

    /** Types {@code text} into the RAP Text widget with test id {@code testId}. */
    void type(String testId, String text) {
        WebElement input = widget(testId).findElement(By.tagName("input"));
        input.click();
        input.sendKeys(text);
    }

    void click(String testId) {
        widget(testId).click();
    }

    /**
     * Clicks the widget with test id {@code testId} unless something covers it (RAP's error box is
     * modal); returns whether the click happened.
     */
    boolean clickUnlessCovered(String testId) {
        try {
            widget(testId).click();
            return true;
        } catch (ElementClickInterceptedException e) {
            return false;
        }
    }

    /**
     * Opens the RAP Combo with test id {@code testId} and clicks its item {@code item} in the drop-down
     * list, which RAP renders outside the combo's shell (so a table cell or label with the same text in
     * that shell is never clicked instead).
     */
    void select(String testId, String item) {
        WebElement combo = widget(testId);
        String shellId = (String) driver.executeScript(OUTERMOST_WIDGET_ID, combo);
        combo.click();
        By itemLocator = By.xpath("//div[normalize-space(text())='" + item + "' and not(ancestor::*[@id='" + shellId
                + "'])]");
        WebElement entry = await("combo " + testId + " shows no item " + item, () -> {
            for (WebElement candidate : driver.findElements(itemLocator)) {
                if (candidate.isDisplayed()) {
                    return candidate;
                }
            }
            return null;
        });
        entry.click();
    }

    /** Waits until the text of the widget with test id {@code testId} contains {@code expected}. */
    String awaitText(String testId, String expected) {
        return await("widget " + testId + " never showed '" + expected + "'", () -> {
            WebElement widget = find(testId);
            String text = widget == null ? "" : widget.getText();
            return text.contains(expected) ? text : null;
        });
    }

    /** The page's visible text now. */
    String pageText() {
        return driver.findElement(By.tagName("body")).getText();
    }

    /** Waits until the page's visible text contains {@code expected} (e.g. RAP's error box) and returns it. */
    String awaitPageText(String expected) {
        return await("the page never showed '" + expected + "'", () -> {
            String text = driver.findElement(By.tagName("body")).getText();
            return text.contains(expected) ? text : null;
        });
    }

    /** Clicks the first visible link whose text is {@code text} (e.g. RAP's error box's "Details"). */
    void clickLink(String text) {
        await("no visible link '" + text + "'", () -> {
            for (WebElement link : driver.findElements(By.linkText(text))) {
                if (link.isDisplayed()) {
                    return link;
                }
            }
            return null;
        }).click();
    }

    /** Saves a PNG of the page to {@code file}. */
    void screenshot(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Path shot = driver.getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(shot, file, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("[chromium] screenshot " + file);
    }

    @Override
    public void close() {
        driver.quit();
    }
}
