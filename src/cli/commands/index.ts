// The list of CLI commands: each module registers itself; add a line here when adding a command.
import type { RegisterCommand } from '../context.js';

export const COMMANDS: RegisterCommand[] = [];
