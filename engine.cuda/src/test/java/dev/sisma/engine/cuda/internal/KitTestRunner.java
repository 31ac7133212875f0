package dev.sisma.engine.cuda.internal;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;

import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs this module's tests without Maven (gpu-check.sh with a kit from gpu-kit.sh, on a GPU
 * machine that has no Maven): every test class of this package, a summary with each failure, exit
 * status 1 when any failed. Run from the engine.cuda folder (the model tests read the goldens at
 * ../bundles/dev.sisma.model/src/test/resources/golden).
 */
public final class KitTestRunner {
    private KitTestRunner() {}

    public static void main(String[] args) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage(KitTestRunner.class.getPackageName())).build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(request, listener);
        TestExecutionSummary summary = listener.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        summary.printFailuresTo(out, 20);
        summary.printTo(out);
        System.exit(summary.getTotalFailureCount() == 0 ? 0 : 1);
    }
}
