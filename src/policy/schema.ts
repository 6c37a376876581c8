// The policy file format: one strict schema that validates every file and, through its
// descriptions, writes policies/schema.json and the reference part of docs/policies.md.
// Edit a description here, then run npm run docs:generate.

import * as z from 'zod';

/** Lifetime used when no matching allow rule sets `max_ttl`. */
export const DEFAULT_MAX_TTL_SECONDS = 300;
/** No rule may let a capability live longer than this: capabilities are short-lived by design. */
export const MAX_TTL_CEILING_SECONDS = 86_400;

const DURATION_UNITS = { s: 1, m: 60, h: 3600 } as const;
const DURATION_TEXT = /^([1-9][0-9]{0,5})([smh])$/;

/** Seconds in a validated duration (`90`, `90s`, `5m`, `1h`). */
export function durationSeconds(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = DURATION_TEXT.exec(value);
  if (!m) throw new TypeError('not a duration');
  return Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS];
}

// Refinements run even after the union itself failed; this one must not throw on bad input.
function withinCeiling(value: unknown): boolean {
  if (typeof value === 'number') return value <= MAX_TTL_CEILING_SECONDS;
  if (typeof value !== 'string' || !DURATION_TEXT.test(value)) return true;
  return durationSeconds(value) <= MAX_TTL_CEILING_SECONDS;
}

const glob = (what: string) =>
  z
    .string()
    .min(1)
    .max(256)
    .describe(`${what}; \`*\` matches any run of characters, including dots and colons.`);

const globList = (what: string, description: string) => z.array(glob(what)).min(1).optional().describe(description);

export const DurationSchema = z
  .union([
    z.int().min(1).max(MAX_TTL_CEILING_SECONDS).describe('Whole seconds.'),
    z.string().regex(DURATION_TEXT, 'must be whole seconds or a duration such as 90s, 5m, 1h').describe('A number with a unit: `s` seconds, `m` minutes, `h` hours (`90s`, `5m`, `1h`).'),
  ], { error: 'must be whole seconds or a duration such as 90s, 5m, 1h' })
  .refine(withinCeiling, {
    message: `must be at most ${MAX_TTL_CEILING_SECONDS} seconds (24h)`,
  })
  .meta({
    id: 'Duration',
    description: `A lifetime: whole seconds or a number with a unit. At most ${MAX_TTL_CEILING_SECONDS} seconds (24h).`,
  });

const scalar = z.union([z.string(), z.number()]);

export const ArgumentConstraintSchema = z
  .strictObject({
    eq: z.union([z.string(), z.number(), z.boolean()]).optional().describe('The field must equal this value exactly.'),
    one_of: z.array(scalar).min(1).optional().describe('The field must equal one of these values.'),
    starts_with: z.string().min(1).optional().describe('The field must be a string that starts with this text.'),
    ends_with: z
      .string()
      .min(1)
      .optional()
      .describe('The field must be a string that ends with this text (for example `@customer.com`).'),
    max: z.number().optional().describe('The field must be a number at most this (inclusive).'),
    min: z.number().optional().describe('The field must be a number at least this (inclusive).'),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'an argument constraint needs at least one condition' })
  .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, {
    message: 'min must not exceed max',
    path: ['min'],
  })
  .meta({
    id: 'ArgumentConstraint',
    description:
      'Conditions on one top-level field of the tool input, checked by the executor and every verifier. All conditions given must hold; a missing field fails every condition.',
  });

export const MatchSchema = z
  .strictObject({
    orgs: globList('Org id pattern', 'Org ids (globs) the rule applies to. Absent: every org.'),
    agents: globList('Agent (client) id pattern', 'Agent client ids (globs) the rule applies to. Absent: every agent.'),
    tools: globList(
      'Tool name pattern such as `gmail.*`',
      'Tool names (globs) the rule applies to. Absent: every tool.',
    ),
    principal: z
      .enum(['user', 'org'])
      .optional()
      .describe('Whose authority is delegated: `user` (a person consented) or `org` (an org-level grant). Absent: both.'),
    audiences: globList(
      'Audience pattern',
      'Audiences (globs) of the requested capability, such as the executor URL. Absent: every audience.',
    ),
  })
  .meta({
    id: 'Match',
    description:
      'When a rule applies. Every condition given must hold; a condition left out matches everything, so `{}` matches every request.',
  });

const toolArguments = z
  .record(
    z.string().min(1).max(256).describe('Tool name pattern'),
    z.record(z.string().min(1).max(128).describe('Input field name'), ArgumentConstraintSchema),
  )
  .optional()
  .describe(
    'Argument constraints: tool name pattern → top-level input field → conditions. They apply to every requested tool the pattern matches.',
  );

export const ConstraintsSchema = z
  .strictObject({
    max_ttl: DurationSchema.optional().describe(
      `Longest life of the capability. The shortest \`max_ttl\` of all matching allow rules wins; when none sets one, ${DEFAULT_MAX_TTL_SECONDS} seconds.`,
    ),
    single_use: z
      .boolean()
      .optional()
      .describe('The capability may be spent once only. True if any matching allow rule says so.'),
    require_dpop: z
      .boolean()
      .optional()
      .describe('The capability must be sender-bound with DPoP (RFC 9449). True if any matching allow rule says so.'),
    resources: z
      .array(glob('Resource pattern such as `github:repo:acme/*`'))
      .min(1)
      .optional()
      .describe(
        'Resources (globs) the capability may name. Requested resources must fall within them; with several matching rules, within every rule\'s list. Absent: no restriction.',
      ),
    arguments: toolArguments,
  })
  .meta({ id: 'Constraints', description: 'Limits an allow rule puts on the capability it allows.' });

const ruleId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')
  .describe('Unique name of the rule across all loaded files; decisions and audit events cite it.');
const ruleDescription = z.string().min(1).max(500).describe('What the rule is for, in plain words; shown in decision reasons.');

export const AllowRuleSchema = z
  .strictObject({
    id: ruleId,
    description: ruleDescription,
    effect: z.literal('allow').describe('Allow the matched tools, under the constraints.'),
    match: MatchSchema.describe('When the rule applies.'),
    constraints: ConstraintsSchema.optional().describe('Limits on the capability; absent means the default limits.'),
  })
  .meta({ id: 'AllowRule', description: 'Allows the tools it matches, under its constraints.' });

export const DenyRuleSchema = z
  .strictObject({
    id: ruleId,
    description: ruleDescription,
    effect: z.literal('deny').describe('Deny every request that asks for a matched tool, whatever any allow rule says.'),
    match: MatchSchema.describe('When the rule applies.'),
  })
  .meta({ id: 'DenyRule', description: 'Denies any request for a tool it matches. Deny wins over allow.' });

export const ApprovalConditionSchema = z
  .strictObject({
    gt: z.number().optional().describe('The field is a number greater than this.'),
    gte: z.number().optional().describe('The field is a number at least this.'),
    lt: z.number().optional().describe('The field is a number less than this.'),
    lte: z.number().optional().describe('The field is a number at most this.'),
    eq: z.union([z.string(), z.number(), z.boolean()]).optional().describe('The field equals this value.'),
    not_eq: z.union([z.string(), z.number(), z.boolean()]).optional().describe('The field does not equal this value.'),
    one_of: z.array(scalar).min(1).optional().describe('The field equals one of these values.'),
    not_one_of: z.array(scalar).min(1).optional().describe('The field equals none of these values.'),
    starts_with: z.string().min(1).optional().describe('The field is a string that starts with this text.'),
    not_starts_with: z.string().min(1).optional().describe('The field is not a string that starts with this text.'),
    ends_with: z.string().min(1).optional().describe('The field is a string that ends with this text.'),
    not_ends_with: z.string().min(1).optional().describe('The field is not a string that ends with this text (for example `@xcorp.com`: mail leaving the company).'),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'a condition needs at least one test' })
  .meta({
    id: 'ApprovalCondition',
    description:
      'When one top-level field of the tool input calls for approval. Every test given must hold. A capability whose constraints leave the condition possible needs approval; one whose constraints rule it out does not.',
  });

export const ApproversSchema = z
  .union([
    z.literal('user').describe('The user the agent acts for.'),
    z.literal('org_admin').describe('Any admin of the org.'),
    z.strictObject({ group: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).describe('A group the org defines in its approval settings.') }).describe('Any member of a named group of users.'),
  ])
  .meta({ id: 'Approvers', description: 'Who may approve: `user`, `org_admin`, or `{ group: <name> }`.' });

export const ApprovalRuleSchema = z
  .strictObject({
    id: ruleId,
    description: ruleDescription,
    effect: z.literal('require_approval').describe('A person approves each matched call, for its exact arguments, before the agent gets a capability for it.'),
    match: MatchSchema.describe('When the rule applies.'),
    when: z
      .record(z.string().min(1).max(128).describe('Input field name'), ApprovalConditionSchema)
      .optional()
      .describe('Conditions on the tool input (all must hold). Absent: every call of a matched tool needs approval.'),
    approvers: ApproversSchema.default('user').describe('Who may approve. Default: the user the agent acts for.'),
    max_wait: DurationSchema.optional().describe('How long a request may wait for a decision; the agent\'s `requested_expiry` can only shorten it. Default 10m.'),
    fresh_sign_in: DurationSchema.optional().describe('The approver must have signed in at most this long ago. Default 5m.'),
  })
  .meta({ id: 'ApprovalRule', description: 'Requires a person to approve each matched call (OpenID CIBA), instead of a token exchange.' });

export const RuleSchema = z.discriminatedUnion('effect', [AllowRuleSchema, DenyRuleSchema, ApprovalRuleSchema]);

export const PolicyFileSchema = z
  .strictObject({
    version: z
      .union([z.string().min(1).max(64), z.int().min(0).max(Number.MAX_SAFE_INTEGER)], {
        error: 'must be a non-empty string or a whole number',
      })
      .describe('The revision of this file, chosen by its author (`3`, `2025-06-01`). It goes into every decision\'s `policy_version`.'),
    rules: z.array(RuleSchema).describe('The rules. Their order does not matter.'),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.rules.forEach((rule, index) => {
      if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', index, 'id'], message: `duplicate rule id "${rule.id}"` });
      seen.add(rule.id);
    });
  })
  .meta({
    id: 'PolicyFile',
    title: 'Writ policy file',
    description: 'One YAML file of policy rules. Every top-level `*.yaml` file in the policy directory is loaded.',
  });

export type PolicyFileDocument = z.output<typeof PolicyFileSchema>;
export type AllowRuleDocument = z.output<typeof AllowRuleSchema>;
export type RuleDocument = z.output<typeof RuleSchema>;
export type ApprovalConditionDocument = z.output<typeof ApprovalConditionSchema>;
/** Default wait for an approval, and default freshness of the approver's sign-in (seconds). */
export const DEFAULT_APPROVAL_MAX_WAIT_SECONDS = 600;
export const DEFAULT_FRESH_SIGN_IN_SECONDS = 300;
