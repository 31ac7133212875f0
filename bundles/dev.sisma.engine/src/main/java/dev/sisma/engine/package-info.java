/**
 * Tensors ({@link dev.sisma.engine.Tensor}, {@link dev.sisma.engine.Shape}), their ops with
 * reverse-mode autograd ({@link dev.sisma.engine.Ops}), lifetimes ({@link dev.sisma.engine.Scope},
 * {@link dev.sisma.engine.NoGrad}) and the services that pick a backend ({@link dev.sisma.engine.Backends}).
 */
@Export
@Version("1.3.0")
package dev.sisma.engine;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
