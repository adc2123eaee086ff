// Signal sources: the interface every source implements and the one factory that picks them for an environment.
export * from './signal-source.js';
