// `import Runner` gives the whole library: kernels, layers, networks, optimizers, data,
// training and experiments (config, sweep, scheduler, outputs).
@_exported import RunnerExperiment
