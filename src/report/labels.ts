/** What a label column holds when the log or the databases did not tell (empty string in the tables). */
export const UNKNOWN_LABEL = '(unknown)';
