package dev.sisma.ui.swt.internal.eclipse;

import java.nio.file.Path;

import org.eclipse.equinox.app.IApplication;
import org.eclipse.equinox.app.IApplicationContext;
import org.eclipse.swt.widgets.Display;
import org.eclipse.ui.IWorkbench;
import org.eclipse.ui.PlatformUI;
import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkUtil;

/**
 * The sisma workbench ({@code ./sisma workbench [MASK]}): an Eclipse RCP application whose window
 * opens the sisma perspective. The framework property {@value #MASK_PROPERTY} names the mask the
 * editor opens first. Created by the Eclipse application container from {@code plugin.xml}.
 */
public final class WorkbenchApplication implements IApplication {
    public static final String MASK_PROPERTY = "sisma.workbench.mask";

    @Override
    public Object start(IApplicationContext context) {
        Bundle bundle = FrameworkUtil.getBundle(WorkbenchApplication.class);
        String mask = bundle.getBundleContext().getProperty(MASK_PROPERTY);
        Display display = PlatformUI.createDisplay();
        try {
            int code = PlatformUI.createAndRunWorkbench(display,
                    new SismaWorkbenchAdvisor(mask == null || mask.isBlank() ? null : Path.of(mask)));
            return code == PlatformUI.RETURN_RESTART ? IApplication.EXIT_RESTART : IApplication.EXIT_OK;
        } finally {
            display.dispose();
        }
    }

    @Override
    public void stop() {
        if (!PlatformUI.isWorkbenchRunning()) {
            return;
        }
        IWorkbench workbench = PlatformUI.getWorkbench();
        Display display = workbench.getDisplay();
        display.syncExec(() -> {
            if (!display.isDisposed()) {
                workbench.close();
            }
        });
    }
}
