// Types of platform-packages.mjs (plain Node so that `npm run setup` needs no build), for the tests that import it.
export interface PlatformPackage {
  name: string;
  why: string;
  provesPresent: string;
  isNeededByTests: boolean;
}
export const PLATFORM_PACKAGES: readonly PlatformPackage[];
export function findMissingPackages(packages: readonly PlatformPackage[]): PlatformPackage[];
export function formatInstallCommand(names: readonly string[]): string;
