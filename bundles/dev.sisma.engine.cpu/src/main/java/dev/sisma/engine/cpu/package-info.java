/** The pure-Java CPU backend ({@link dev.sisma.engine.cpu.CpuBackend}) and its benchmark ({@link dev.sisma.engine.cpu.EngineBench}). */
@Export
@Version("1.1.0")
package dev.sisma.engine.cpu;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
