package dev.sisma.cli;

import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.sisma.api.cli.Command;
import dev.sisma.api.generate.Generator;

/**
 * A command that paints faces through the {@link Generator} service. The reference is optional
 * and dynamic, so the command stays listed while the model bundle is stopped and says why it
 * cannot run (bnd is told to read these inherited annotations: {@code -dsannotations-options: inherit}).
 */
abstract class GeneratorCommand implements Command {
    private volatile Generator generator;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setGenerator(Generator g) {
        generator = g;
    }

    void unsetGenerator(Generator g) {
        if (generator == g) {
            generator = null;
        }
    }

    /** The generator, or a failure that says why there is none. */
    Generator generator() {
        Generator g = generator;
        if (g == null) {
            throw new IllegalStateException("no face generator is running (is the dev.sisma.model bundle started?)");
        }
        return g;
    }
}
