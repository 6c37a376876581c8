import { approvalsContract } from './approvals.ts';
import { auditContract } from './audit.ts';
import { authorityContract } from './authority.ts';
import { capabilitiesContract } from './capabilities.ts';
import { directoryContract } from './directory.ts';
import { evidenceContract } from './evidence.ts';
import { lifecycleContract } from './lifecycle.ts';
import { grantsContract } from './grants.ts';
import { keysContract } from './keys.ts';
import { mcpContract } from './mcp.ts';
import { oidcContract } from './oidc.ts';
import { orgConnectorsContract } from './org-connectors.ts';
import { peersContract } from './peers.ts';
import { replayContract } from './replay.ts';
import { revocationFeedContract } from './revocation-feed.ts';
import { ssoContract } from './sso.ts';
import { vaultContract } from './vault.ts';
import type { ContractSuite, StoreFactory } from '../support/harness.ts';

// Every port's suite. A new port adds its suite here, one line, and every adapter runs it.
export const contractSuites: ContractSuite[] = [
  directoryContract,
  grantsContract,
  oidcContract,
  auditContract,
  keysContract,
  vaultContract,
  orgConnectorsContract,
  capabilitiesContract,
  revocationFeedContract,
  authorityContract,
  peersContract,
  replayContract,
  mcpContract,
  ssoContract,
  lifecycleContract,
  evidenceContract,
  approvalsContract,
];

export function runContract(adapter: string, factory: StoreFactory): void {
  for (const suite of contractSuites) suite(adapter, factory);
}
