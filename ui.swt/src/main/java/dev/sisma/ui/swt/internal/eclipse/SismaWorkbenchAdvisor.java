package dev.sisma.ui.swt.internal.eclipse;

import java.nio.file.Path;

import org.eclipse.jface.action.IMenuManager;
import org.eclipse.jface.action.MenuManager;
import org.eclipse.jface.action.Separator;
import org.eclipse.swt.graphics.Point;
import org.eclipse.ui.IViewPart;
import org.eclipse.ui.IWorkbenchActionConstants;
import org.eclipse.ui.IWorkbenchPage;
import org.eclipse.ui.IWorkbenchWindow;
import org.eclipse.ui.PartInitException;
import org.eclipse.ui.actions.ActionFactory;
import org.eclipse.ui.application.ActionBarAdvisor;
import org.eclipse.ui.application.IActionBarConfigurer;
import org.eclipse.ui.application.IWorkbenchConfigurer;
import org.eclipse.ui.application.IWorkbenchWindowConfigurer;
import org.eclipse.ui.application.WorkbenchAdvisor;
import org.eclipse.ui.application.WorkbenchWindowAdvisor;

/**
 * The sisma workbench window: the sisma perspective, a File / Edit / Window / Help menu bar whose
 * entries are the workbench's own commands (Save, Save As, Undo, Redo, Preferences; key bindings from
 * the workbench's default scheme) plus sisma's (contributed in {@code plugin.xml}), a status line with
 * the progress indicator, and the first mask opened in the editor once the window is up.
 */
final class SismaWorkbenchAdvisor extends WorkbenchAdvisor {
    private final Path initialMask;

    SismaWorkbenchAdvisor(Path initialMask) {
        this.initialMask = initialMask;
    }

    @Override
    public void initialize(IWorkbenchConfigurer configurer) {
        configurer.setSaveAndRestore(false);
        // the backend and threads chosen in Window > Preferences > sisma, kept in the instance area
        var bundle = org.osgi.framework.FrameworkUtil.getBundle(SismaWorkbenchAdvisor.class);
        if (bundle != null && bundle.getBundleContext() != null) {
            new EnginePreferences(bundle.getBundleContext()).configure();
        }
    }

    @Override
    public String getInitialWindowPerspectiveId() {
        return SismaPerspective.ID;
    }

    @Override
    public WorkbenchWindowAdvisor createWorkbenchWindowAdvisor(IWorkbenchWindowConfigurer configurer) {
        return new WorkbenchWindowAdvisor(configurer) {
            @Override
            public ActionBarAdvisor createActionBarAdvisor(IActionBarConfigurer c) {
                return new Menus(c);
            }

            @Override
            public void preWindowOpen() {
                IWorkbenchWindowConfigurer w = getWindowConfigurer();
                w.setInitialSize(new Point(1360, 900));
                w.setShowCoolBar(false);
                w.setShowStatusLine(true);
                w.setShowProgressIndicator(true);
                w.setTitle("sisma");
            }

            @Override
            public void postWindowOpen() {
                IWorkbenchPage page = getWindowConfigurer().getWindow().getActivePage();
                if (page == null) {
                    return;
                }
                try {
                    IViewPart part = page.showView(MaskEditorView.ID);
                    if (initialMask != null && part instanceof MaskEditorView view) {
                        view.openMask(initialMask);
                    }
                } catch (PartInitException e) {
                    throw new IllegalStateException("the Mask Editor view did not open: " + e.getMessage(), e);
                }
            }
        };
    }

    /** The menu bar: the workbench's standard actions, each bound to its command. */
    private static final class Menus extends ActionBarAdvisor {
        private ActionFactory.IWorkbenchAction save;
        private ActionFactory.IWorkbenchAction saveAs;
        private ActionFactory.IWorkbenchAction quit;
        private ActionFactory.IWorkbenchAction undo;
        private ActionFactory.IWorkbenchAction redo;
        private ActionFactory.IWorkbenchAction preferences;
        private ActionFactory.IWorkbenchAction about;

        Menus(IActionBarConfigurer configurer) {
            super(configurer);
        }

        @Override
        protected void makeActions(IWorkbenchWindow window) {
            save = register(ActionFactory.SAVE.create(window));
            saveAs = register(ActionFactory.SAVE_AS.create(window));
            quit = register(ActionFactory.QUIT.create(window));
            undo = register(ActionFactory.UNDO.create(window));
            redo = register(ActionFactory.REDO.create(window));
            preferences = register(ActionFactory.PREFERENCES.create(window));
            about = register(ActionFactory.ABOUT.create(window));
        }

        private ActionFactory.IWorkbenchAction register(ActionFactory.IWorkbenchAction a) {
            super.register(a);
            return a;
        }

        @Override
        protected void fillMenuBar(IMenuManager bar) {
            MenuManager file = new MenuManager("&File", IWorkbenchActionConstants.M_FILE);
            file.add(new Separator(IWorkbenchActionConstants.NEW_EXT));
            file.add(new Separator(IWorkbenchActionConstants.OPEN_EXT));
            file.add(new Separator(IWorkbenchActionConstants.SAVE_EXT));
            file.add(save);
            file.add(saveAs);
            file.add(new Separator(IWorkbenchActionConstants.MB_ADDITIONS));
            file.add(new Separator());
            file.add(quit);
            MenuManager edit = new MenuManager("&Edit", IWorkbenchActionConstants.M_EDIT);
            edit.add(undo);
            edit.add(redo);
            edit.add(new Separator(IWorkbenchActionConstants.MB_ADDITIONS));
            MenuManager sisma = new MenuManager("&Mask", "dev.sisma.menu");
            sisma.add(new Separator(IWorkbenchActionConstants.MB_ADDITIONS));
            MenuManager window = new MenuManager("&Window", IWorkbenchActionConstants.M_WINDOW);
            window.add(new Separator(IWorkbenchActionConstants.MB_ADDITIONS));
            window.add(preferences);
            MenuManager help = new MenuManager("&Help", IWorkbenchActionConstants.M_HELP);
            help.add(new Separator(IWorkbenchActionConstants.MB_ADDITIONS));
            help.add(about);
            bar.add(file);
            bar.add(edit);
            bar.add(sisma);
            bar.add(new Separator(IWorkbenchActionConstants.MB_ADDITIONS));
            bar.add(window);
            bar.add(help);
        }
    }
}
