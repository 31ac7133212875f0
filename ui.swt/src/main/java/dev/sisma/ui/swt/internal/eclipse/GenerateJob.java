package dev.sisma.ui.swt.internal.eclipse;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.swt.widgets.Display;

import dev.sisma.ui.swt.internal.generate.GeneratePanel;

/**
 * A generation of the Generate panel as a workbench job: it shows in the Progress view and the status
 * line's progress indicator with the panel's step line, and cancelling it there cancels the generation.
 * The panel runs the generation itself; the job follows it until the panel is idle again.
 */
final class GenerateJob extends Job {
    static final Object FAMILY = GenerateJob.class;
    private final GeneratePanel panel;
    private final Display display;

    GenerateJob(GeneratePanel panel) {
        super("Generating faces");
        this.panel = panel;
        this.display = panel.getDisplay();
        setUser(false);
    }

    @Override
    public boolean belongsTo(Object family) {
        return family == FAMILY;
    }

    @Override
    protected IStatus run(IProgressMonitor monitor) {
        monitor.beginTask("Generating faces", IProgressMonitor.UNKNOWN);
        AtomicBoolean busy = new AtomicBoolean(true);
        AtomicReference<String> status = new AtomicReference<>("");
        try {
            while (busy.get()) {
                if (monitor.isCanceled()) {
                    ui(panel::cancel);
                    return Status.CANCEL_STATUS;
                }
                ui(() -> {
                    busy.set(panel.isBusy());
                    status.set(panel.statusText());
                });
                monitor.subTask(status.get());
                Thread.sleep(150);
            }
            return Status.OK_STATUS;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Status.CANCEL_STATUS;
        } finally {
            monitor.done();
        }
    }

    private void ui(Runnable r) {
        if (display.isDisposed()) {
            return;
        }
        display.syncExec(() -> {
            if (!panel.isDisposed()) {
                r.run();
            }
        });
    }
}
