package dev.sisma.cli;

import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Function;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Puts every {@link dev.sisma.api.cli.Command} into the Gogo shell's {@code sisma:} scope
 * ({@code sisma:info}, {@code sisma:generate ...}), following commands as they come and go. The Gogo
 * package is an optional import: without Gogo this component simply does not start.
 */
@Component(service = {})
public final class GogoCommands {
    private final BundleContext context;
    private final SismaCli cli;
    private final Map<dev.sisma.api.cli.Command, ServiceRegistration<Function>> registrations = new ConcurrentHashMap<>();

    @Activate
    public GogoCommands(BundleContext context) {
        this.context = context;
        this.cli = new SismaCli(context.getBundle().getVersion().toString());
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addCommand(dev.sisma.api.cli.Command command) {
        cli.addCommand(command);
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("osgi.command.scope", "sisma");
        props.put("osgi.command.function", command.name());
        Function f = (CommandSession session, List<Object> arguments) -> {
            List<String> argv = new java.util.ArrayList<>();
            argv.add(command.name());
            arguments.forEach(a -> argv.add(String.valueOf(a)));
            int code = cli.run(argv, SismaCli.context(session.getConsole(), session.getConsole(), session.getKeyboard()));
            return code == 0 ? null : "exit code " + code;
        };
        registrations.put(command, context.registerService(Function.class, f, props));
    }

    void removeCommand(dev.sisma.api.cli.Command command) {
        cli.removeCommand(command);
        ServiceRegistration<Function> r = registrations.remove(command);
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException alreadyGone) {
                // The bundle is stopping; the framework unregisters it for us.
            }
        }
    }

    @Deactivate
    void deactivate() {
        registrations.keySet().forEach(this::removeCommand);
    }
}
