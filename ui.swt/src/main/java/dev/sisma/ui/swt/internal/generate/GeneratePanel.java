package dev.sisma.ui.swt.internal.generate;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import org.eclipse.swt.SWT;
import org.eclipse.swt.graphics.Image;
import org.eclipse.swt.graphics.ImageData;
import org.eclipse.swt.graphics.PaletteData;
import org.eclipse.swt.graphics.Rectangle;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Canvas;
import org.eclipse.swt.widgets.Combo;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.ProgressBar;
import org.eclipse.swt.widgets.Spinner;

import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.SamplingDefaults;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.ui.swt.internal.doc.DocumentListener;
import dev.sisma.ui.swt.internal.doc.MaskDocument;
import dev.sisma.ui.swt.internal.editor.Prompter;

/**
 * Generate: samples side by side from the generator service, run in the background with progress
 * and cancel; seed, steps, sampler and guidance; "Vary" for new seeds; double-click a sample to
 * save it; "Live" regenerates after each edit, restarting a running job. Disabled, with the reason,
 * while no generator is available. With "Model defaults" checked the sampler, steps and guidance
 * shown are the ones the generator says its model runs with ({@link Generator#defaults}).
 */
public final class GeneratePanel extends Composite {
    /** Live regenerate waits this long after an edit, so a burst of edits starts one job. */
    static final int LIVE_DELAY_MS = 250;

    private final GeneratorSource source;
    private final MaskDocument doc;
    private final Supplier<Prompter> prompter;
    private final GenerationRunner runner = new GenerationRunner();
    private final Random seeds = new Random();

    private final Button generate, vary, cancel, live;
    private final Spinner samples, seed, steps, guidance;
    /** Checked: leave sampler, steps and guidance to the model (its config's defaults). */
    private final Button modelDefaults;
    private final Combo sampler;
    /** The generator's bundled models (demo-32, demo-256); empty when it names none (then its default is used). */
    private final Combo model;
    private final ProgressBar progress;
    private final Label status;
    private final Composite results;
    private final List<GeneratedImage> shown = new ArrayList<>();
    private final List<Image> images = new ArrayList<>();
    private boolean busy;
    private boolean liveQueued;
    private long lastGeneratedRevision = -1;
    private volatile boolean progressPending;
    private Generator boundTo;
    /** What the bound generator's model runs with when the request leaves it open; null: not known. */
    private SamplingDefaults modelSampling;
    /** The model chosen when a generator first names its models (a workbench preference); null: its first. */
    private String startModel;

    private final Runnable sourceListener = () -> asyncUi(this::updateAvailability);
    private final DocumentListener docListener = new DocumentListener() {
        @Override
        public void stateChanged(MaskDocument d) {
            scheduleLive();
        }
    };

    public GeneratePanel(Composite parent, GeneratorSource source, MaskDocument doc, Supplier<Prompter> prompter) {
        super(parent, SWT.NONE);
        this.source = source;
        this.doc = doc;
        this.prompter = prompter;
        setLayout(new GridLayout(1, false));

        Composite buttons = row(4);
        generate = button(buttons, SWT.PUSH, "Generate", "Generate faces from the mask (Ctrl+G)");
        vary = button(buttons, SWT.PUSH, "Vary", "New random seeds, then generate");
        cancel = button(buttons, SWT.PUSH, "Cancel", "Stop the running job");
        live = button(buttons, SWT.CHECK, "Live", "Regenerate after each edit (restarts a running job)");

        Composite models = row(2);
        new Label(models, SWT.NONE).setText("Model");
        model = new Combo(models, SWT.READ_ONLY);
        model.setToolTipText("The model that paints: demo-32 (32x32, fast) or demo-256 (256x256 through TAEF2's latents)");
        model.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        holdMinimumWidth(model);
        model.addListener(SWT.Selection, e -> {
            modelSampling = modelDefaultsOf(source.current());
            updateAvailability();
        });

        Composite params = row(4);
        samples = spinner(params, "Samples", 1, 8, 4, 0);
        seed = spinner(params, "Seed", 0, Integer.MAX_VALUE, 42, 0);
        // steps and guidance show the model's defaults once a generator is there (updateAvailability)
        steps = spinner(params, "Steps", 1, 1000, 1, 0);
        guidance = spinner(params, "Guidance", 0, 100, 10, 1);
        new Label(params, SWT.NONE).setText("Sampler");
        sampler = new Combo(params, SWT.READ_ONLY);
        sampler.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false, 1, 1));
        holdMinimumWidth(sampler);
        modelDefaults = button(params, SWT.CHECK, "Model defaults",
                "Use the model's own sampler, steps and guidance (uncheck to set them here)");
        modelDefaults.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false, 2, 1));
        modelDefaults.setSelection(true);
        modelDefaults.addListener(SWT.Selection, e -> updateAvailability());

        progress = new ProgressBar(this, SWT.HORIZONTAL);
        progress.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        status = new Label(this, SWT.WRAP);
        status.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        results = new Composite(this, SWT.NONE);
        results.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        results.setLayout(new GridLayout(2, true));

        generate.addListener(SWT.Selection, e -> generate());
        vary.addListener(SWT.Selection, e -> vary());
        cancel.addListener(SWT.Selection, e -> runner.cancel());
        live.addListener(SWT.Selection, e -> scheduleLive());

        source.addListener(sourceListener);
        doc.addListener(docListener);
        addListener(SWT.Dispose, e -> {
            source.removeListener(sourceListener);
            doc.removeListener(docListener);
            runner.close();
            images.forEach(Image::dispose);
        });
        updateAvailability();
    }

    private Composite row(int columns) {
        Composite c = new Composite(this, SWT.NONE);
        GridLayout l = new GridLayout(columns, false);
        l.marginWidth = 0;
        l.marginHeight = 0;
        c.setLayout(l);
        c.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        return c;
    }

    private static Button button(Composite parent, int style, String text, String tip) {
        Button b = new Button(parent, style);
        b.setText(text);
        b.setToolTipText(tip);
        return b;
    }

    private static Spinner spinner(Composite parent, String label, int min, int max, int value, int digits) {
        new Label(parent, SWT.NONE).setText(label);
        Spinner s = new Spinner(parent, SWT.BORDER);
        s.setValues(value, min, max, digits, 1, 10);
        s.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        holdMinimumWidth(s);
        return s;
    }

    /**
     * Never lays {@code c} out narrower than GTK's own minimum for it (a spin button's digits and
     * +/- buttons, a combo's longest item and arrow: 100 px and more). A smaller allocation makes GTK
     * print a Gtk-CRITICAL on every layout ("gtk_box_gadget_distribute: assertion 'size >= 0'" for
     * spin buttons, "Negative content width" for a combo's toggle button). A combo's minimum follows
     * its items, so call again after they change.
     */
    private static void holdMinimumWidth(Control c) {
        ((GridData) c.getLayoutData()).minimumWidth = c.computeSize(SWT.DEFAULT, SWT.DEFAULT, true).x;
    }

    private void asyncUi(Runnable r) {
        if (isDisposed()) {
            return;
        }
        Display d = getDisplay();
        if (d.getThread() == Thread.currentThread()) {
            r.run();
        } else {
            d.asyncExec(() -> {
                if (!isDisposed()) {
                    r.run();
                }
            });
        }
    }

    // ------------------------------------------------------------------ state

    /** Enables Generate when a generator is available, else shows why it is not. */
    private void updateAvailability() {
        Generator g = source.current();
        boolean available = g != null;
        if (g != boundTo) {
            boundTo = g;
            String previous = sampler.getText();
            sampler.removeAll();
            if (g != null) {
                for (String s : g.samplers()) {
                    sampler.add(s);
                }
                int i = sampler.indexOf(previous);
                sampler.select(Math.max(0, i));
            }
            String previousModel = model.getText();
            model.removeAll();
            if (g != null) {
                g.models().forEach(model::add);
                String want = previousModel.isEmpty() && startModel != null ? startModel : previousModel;
                model.select(Math.max(0, model.indexOf(want)));
            }
            modelSampling = modelDefaultsOf(g);
            holdMinimumWidth(sampler);
            holdMinimumWidth(model);
            layout(true, true);
        }
        if (modelDefaults.getSelection() && modelSampling != null) {
            showSampling(modelSampling);
        }
        if (!available && busy) {
            runner.cancel();
        }
        generate.setEnabled(available && !busy);
        vary.setEnabled(available && !busy);
        boolean own = !modelDefaults.getSelection();
        sampler.setEnabled(available && own);
        model.setEnabled(available && model.getItemCount() > 0);
        steps.setEnabled(own);
        guidance.setEnabled(own);
        cancel.setEnabled(busy);
        if (!available) {
            setStatus("Generate is off: " + source.absentReason());
        } else if (!busy && status.getText().startsWith("Generate is off")) {
            setStatus("Ready: " + g.samplers().size() + " sampler(s).");
        }
    }

    /** The checkpoint of the chosen model (null: the generator's default). */
    private java.nio.file.Path chosenModel(Generator g) {
        String name = model.getText();
        return name.isEmpty() ? null : g.model(name).orElse(null);
    }

    /** The generator's defaults for the chosen model, or null when it cannot say. */
    private SamplingDefaults modelDefaultsOf(Generator g) {
        if (g == null) {
            return null;
        }
        try {
            SamplingDefaults d = g.defaults(chosenModel(g)).orElse(null);
            modelDefaults.setToolTipText(d == null
                    ? "Use the model's own sampler, steps and guidance (this generator does not say them before it runs)"
                    : String.format("Use the model's own sampler, steps and guidance: %s, %d steps, guidance %.1f"
                            + " (uncheck to set them here)", d.sampler(), d.steps(), d.cfgScale()));
            return d;
        } catch (RuntimeException e) {
            modelDefaults.setToolTipText("Use the model's own sampler, steps and guidance (not readable: " + e.getMessage() + ")");
            return null;
        }
    }

    private void showSampling(SamplingDefaults d) {
        int i = sampler.indexOf(d.sampler());
        if (i >= 0) {
            sampler.select(i);
        }
        steps.setSelection(Math.max(steps.getMinimum(), Math.min(steps.getMaximum(), d.steps())));
        guidance.setSelection((int) Math.round(Math.max(0, Math.min(guidance.getMaximum(), d.cfgScale() * 10))));
    }

    /** The sampler, steps and guidance the panel shows (with "Model defaults" checked: the model's); null without a sampler. */
    public SamplingDefaults shownSampling() {
        String name = sampler.getText();
        return name.isEmpty() ? null : new SamplingDefaults(name, steps.getSelection(), guidance.getSelection() / 10.0);
    }

    /** Whether sampler, steps and guidance are left to the model. */
    public boolean usesModelDefaults() {
        return modelDefaults.getSelection();
    }

    private void setStatus(String text) {
        status.setText(text);
        status.setToolTipText(text);
        layout(true);
    }

    public String statusText() {
        return status.getText();
    }

    public boolean isBusy() {
        return busy;
    }

    public boolean canGenerate() {
        return generate.isEnabled();
    }

    /** The samples shown, left to right. */
    public List<GeneratedImage> samples() {
        return List.copyOf(shown);
    }

    public void setSeed(long s) {
        seed.setSelection((int) Math.min(Integer.MAX_VALUE, Math.max(0, s)));
    }

    public long seed() {
        return seed.getSelection();
    }

    public void setSamples(int n) {
        samples.setSelection(n);
    }

    public void setSteps(int n) {
        useModelDefaults(false);
        steps.setSelection(n);
    }

    /** Leave sampler, steps and guidance to the model (true), or use this panel's (false). */
    public void useModelDefaults(boolean on) {
        modelDefaults.setSelection(on);
        updateAvailability();
    }

    /**
     * The model to start with (by the generator's name for it, e.g. demo-256): chosen now if the
     * generator names it, else once a generator that names it arrives. Null or unknown: the first.
     */
    public void setStartModel(String name) {
        startModel = name == null || name.isBlank() ? null : name.trim();
        if (startModel != null && model.indexOf(startModel) >= 0) {
            model.select(model.indexOf(startModel));
            modelSampling = modelDefaultsOf(source.current());
            updateAvailability();
        }
    }

    /** The model chosen in the combo ("" when the generator names none). */
    public String modelName() {
        return model.getText();
    }

    public void setLive(boolean on) {
        live.setSelection(on);
        scheduleLive();
    }

    public void selectSampler(String name) {
        useModelDefaults(false);
        sampler.select(sampler.indexOf(name));
    }

    public String[] samplerNames() {
        return sampler.getItems();
    }

    // ------------------------------------------------------------------ actions

    public void vary() {
        seed.setSelection(seeds.nextInt(1_000_000));
        generate();
    }

    public void cancel() {
        runner.cancel();
    }

    /** Starts a job for the current mask (cancelling one that runs). */
    public void generate() {
        Generator g = source.current();
        if (g == null) {
            updateAvailability();
            return;
        }
        java.nio.file.Path checkpoint;
        try {
            checkpoint = chosenModel(g);
        } catch (RuntimeException e) {
            setStatus("Model " + model.getText() + " is not usable: " + e.getMessage());
            return;
        }
        boolean own = !modelDefaults.getSelection();
        // 0 steps, no sampler and NaN guidance ask the generator for the model's defaults
        GenerationRequest request = new GenerationRequest(doc.snapshot(), samples.getSelection(), seed.getSelection(),
                own ? steps.getSelection() : 0, own && !sampler.getText().isEmpty() ? sampler.getText() : null,
                own ? guidance.getSelection() / 10.0 : Double.NaN, checkpoint, null);
        lastGeneratedRevision = doc.revision();
        busy = true;
        progress.setSelection(0);
        setStatus("Generating " + request.samples() + " sample(s), "
                + (request.steps() == 0 ? "the model's steps" : request.steps() + " steps") + "...");
        updateAvailability();
        runner.start(g, request, new GenerationRunner.Listener() {
            @Override
            public void progress(long job, int done, int total, double secondsPerStep) {
                // Coalesce: one pending UI update at a time, however fast the steps come.
                if (progressPending) {
                    return;
                }
                progressPending = true;
                asyncUi(() -> {
                    progressPending = false;
                    if (job != runner.latest()) {
                        return;
                    }
                    progress.setMaximum(total);
                    progress.setSelection(done);
                    setStatus(String.format("Step %d/%d, %.2f s/step", done, total, secondsPerStep));
                });
            }

            @Override
            public void finished(long job, List<GeneratedImage> result, double seconds) {
                asyncUi(() -> {
                    if (job != runner.latest()) {
                        return;
                    }
                    busy = false;
                    progress.setSelection(progress.getMaximum());
                    show(result);
                    setStatus(String.format("%d sample(s) in %.1f s. Double-click one to save it.", result.size(), seconds));
                    updateAvailability();
                });
            }

            @Override
            public void cancelled(long job) {
                asyncUi(() -> {
                    if (job != runner.latest()) {
                        return;
                    }
                    busy = false;
                    progress.setSelection(0);
                    setStatus("Cancelled.");
                    updateAvailability();
                });
            }

            @Override
            public void failed(long job, Throwable error) {
                asyncUi(() -> {
                    if (job != runner.latest()) {
                        return;
                    }
                    busy = false;
                    setStatus("Generate failed: " + (error.getMessage() == null ? error.toString() : error.getMessage()));
                    updateAvailability();
                });
            }
        });
    }

    private void scheduleLive() {
        if (!live.getSelection() || liveQueued || isDisposed()) {
            return;
        }
        liveQueued = true;
        getDisplay().timerExec(LIVE_DELAY_MS, () -> {
            liveQueued = false;
            if (!isDisposed() && live.getSelection() && source.current() != null && doc.revision() != lastGeneratedRevision) {
                generate();
            }
        });
    }

    // ------------------------------------------------------------------ results

    private void show(List<GeneratedImage> result) {
        for (var c : results.getChildren()) {
            c.dispose();
        }
        images.forEach(Image::dispose);
        images.clear();
        shown.clear();
        shown.addAll(result);
        ((GridLayout) results.getLayout()).numColumns = Math.min(result.size(), result.size() <= 4 ? 2 : 4);
        for (GeneratedImage gi : result) {
            Image img = toImage(gi);
            images.add(img);
            Composite cell = new Composite(results, SWT.NONE);
            cell.setLayout(new GridLayout(1, false));
            cell.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
            Canvas c = new Canvas(cell, SWT.DOUBLE_BUFFERED);
            c.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
            c.setToolTipText("seed " + gi.seed() + ": double-click to save");
            c.addListener(SWT.Paint, e -> {
                Rectangle area = c.getClientArea();
                double s = Math.min(area.width / (double) gi.width(), area.height / (double) gi.height());
                int w = (int) (gi.width() * s), h = (int) (gi.height() * s);
                if (w > 0 && h > 0) {
                    e.gc.drawImage(img, 0, 0, gi.width(), gi.height(), (area.width - w) / 2, (area.height - h) / 2, w, h);
                }
            });
            // Double-click from the press times: GTK does not pair presses synthesized through XTest
            // (Display.post, accessibility tools) into a double-click, so SWT.MouseDoubleClick is not used.
            int[] lastPress = {Integer.MIN_VALUE};
            c.addListener(SWT.MouseDown, e -> {
                if (e.button != 1) {
                    return;
                }
                if (lastPress[0] != Integer.MIN_VALUE && e.time - lastPress[0] <= getDisplay().getDoubleClickTime()) {
                    lastPress[0] = Integer.MIN_VALUE;
                    save(gi);
                } else {
                    lastPress[0] = e.time;
                }
            });
            Label l = new Label(cell, SWT.CENTER);
            l.setText("seed " + gi.seed());
            l.setLayoutData(new GridData(SWT.CENTER, SWT.CENTER, true, false));
        }
        results.layout(true, true);
    }

    private Image toImage(GeneratedImage gi) {
        ImageData data = new ImageData(gi.width(), gi.height(), 24, new PaletteData(0xFF0000, 0x00FF00, 0x0000FF));
        int[] rgb = gi.rgb();
        for (int y = 0; y < gi.height(); y++) {
            int o = y * data.bytesPerLine;
            for (int x = 0; x < gi.width(); x++) {
                int p = rgb[y * gi.width() + x];
                data.data[o++] = (byte) (p >> 16);
                data.data[o++] = (byte) (p >> 8);
                data.data[o++] = (byte) p;
            }
        }
        return new Image(getDisplay(), data);
    }

    /** Asks where to save a sample and writes it as PNG. */
    public void save(GeneratedImage gi) {
        Path file = prompter.get().saveFile("Save sample", "sisma-seed" + gi.seed() + ".png", new String[] {"*.png"},
                new String[] {"PNG image"});
        if (file == null) {
            return;
        }
        try {
            writePng(gi, file);
            setStatus("Saved " + file);
        } catch (IOException | RuntimeException e) {
            prompter.get().error("Save sample", "Could not save " + file + ": " + e.getMessage());
        }
    }

    public static void writePng(GeneratedImage gi, Path file) throws IOException {
        BufferedImage img = new BufferedImage(gi.width(), gi.height(), BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, gi.width(), gi.height(), gi.rgb(), 0, gi.width());
        ImageFiles.writePng(img, file);
    }
}
