/**
 * The face generator as a service: a mask in, images out. The CLI's {@code generate} command and
 * the mask editor both call it; other bundles can too.
 * 1.5.0: {@link dev.sisma.api.generate.WeightFormat} and {@link dev.sisma.api.generate.GenerationRequest#weights()}
 * (the format a request's model keeps its Linear weights in).
 */
@Export
@Version("1.5.0")
package dev.sisma.api.generate;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
