package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.remote.RemoteWebDriver;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import dev.sisma.engine.testkit.RuntimeRequirement;

/**
 * The web page in a real browser: Debian's Chromium, headless, driven through its chromedriver.
 * It paints on the starter face (brush stroke, flood fill, undo), uploads a mask file, generates
 * two samples with two steps on the bundled demo model, waits for them to arrive and saves a
 * screenshot to target/serve-page.png. Skipped without Chromium, except under CI=true.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ServePageTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @Test
    void paintUploadGenerateAndSeeTheSamples(@TempDir Path state, @TempDir Path profile) throws Exception {
        RuntimeRequirement.require(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "Chromium and chromedriver (apt-get install chromium chromium-driver)");
        try (ServeProcess server = ServeProcess.start(state)) {
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,1000");
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                    .usingAnyFreePort().build();
            // A plain WebDriver session: ChromeDriver would also open a DevTools socket the test does not use.
            service.start();
            WebDriver driver = new RemoteWebDriver(service.getUrl(), options);
            try {
                driver.get(server.base + "#token=" + server.token);
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60));
                wait.until(d -> d.findElement(By.id("status")).getText().startsWith("ready"));
                wait.until(d -> !d.findElements(By.cssSelector("#model option")).isEmpty());
                JavascriptExecutor js = (JavascriptExecutor) driver;
                assertEquals("", js.executeScript("return location.hash"), "the token leaves the address bar");

                // Upload a mask file, then paint over it: hair colour brush stroke, fill, undo the fill.
                Path mask = Path.of(System.getProperty("sisma.examples")).resolve("face-1.png").toRealPath();
                driver.findElement(By.id("upload")).sendKeys(mask.toAbsolutePath().toString());
                wait.until(d -> d.findElement(By.id("message")).getText().contains("face-1.png"));
                WebElement canvas = driver.findElement(By.id("canvas"));
                String before = (String) js.executeScript("return document.getElementById('canvas').toDataURL()");
                driver.findElement(By.cssSelector("#palette button[data-cls='13']")).click();
                new Actions(driver).moveToElement(canvas, -200, -230).clickAndHold().moveByOffset(120, 20).moveByOffset(120, -10)
                        .release().perform();
                String painted = (String) js.executeScript("return document.getElementById('canvas').toDataURL()");
                assertTrue(!painted.equals(before), "the brush stroke changed the mask");
                new Select(driver.findElement(By.id("tool"))).selectByValue("fill");
                driver.findElement(By.cssSelector("#palette button[data-cls='14']")).click();
                new Actions(driver).moveToElement(canvas, -250, 250).click().perform();
                assertTrue(!painted.equals(js.executeScript("return document.getElementById('canvas').toDataURL()")), "fill");
                driver.findElement(By.id("undo")).click();
                assertEquals(painted, js.executeScript("return document.getElementById('canvas').toDataURL()"), "undo restores the stroke");

                driver.findElement(By.id("samples")).clear();
                driver.findElement(By.id("samples")).sendKeys("2");
                driver.findElement(By.id("steps")).sendKeys("2");
                driver.findElement(By.id("seed")).sendKeys("42");
                driver.findElement(By.id("generate")).click();
                wait.until(d -> {
                    List<WebElement> imgs = d.findElements(By.cssSelector("img.sample"));
                    return imgs.size() == 2 && imgs.stream().allMatch(i -> ((Number) js.executeScript(
                            "return arguments[0].complete ? arguments[0].naturalWidth : 0", i)).intValue() == 32);
                });
                assertTrue(driver.findElement(By.id("message")).getText().contains("seeds 42, 43"),
                        driver.findElement(By.id("message")).getText());
                Path shot = ((org.openqa.selenium.TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
                Path target = Path.of("target", "serve-page.png");
                Files.createDirectories(target.getParent());
                Files.copy(shot, target, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                driver.quit();
                service.stop();
            }
        }
    }
}
