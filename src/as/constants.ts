// Protocol identifiers, spelled as their RFCs spell them.
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'; // RFC 8693 §2.1
export const TOKEN_TYPE = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token', // RFC 8693 §3
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  biscuit: 'urn:writ:params:oauth:token-type:biscuit',
} as const;
export const TOOL_SCOPE_PREFIX = 'tool:';
