/**
 * The pure-Java CPU backend ({@link dev.sisma.engine.cpu.CpuBackend}). 2.0.0: its benchmark moved to
 * the engine ({@code dev.sisma.engine.bench.EngineBench}, on any backend).
 */
@Export
@Version("2.0.0")
package dev.sisma.engine.cpu;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
