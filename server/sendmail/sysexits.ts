// The exit statuses of BSD sysexits.h, which sendmail uses and its callers (PHP's mail(), cron,
// git send-email, mutt) report: a caller can tell "try again later" (75) from "this will never work".

/** Bad command line, or no recipients. */
export const EX_USAGE = 64;
/** The input could not be read. */
export const EX_NOINPUT = 66;
/** The Mailpen host name does not resolve. */
export const EX_NOHOST = 68;
/** The server refused for good (a 5xx reply). */
export const EX_UNAVAILABLE = 69;
/** Nothing listening, a dropped connection, a timeout or a 4xx reply: worth retrying. */
export const EX_TEMPFAIL = 75;
/** The server answered something that is not SMTP. */
export const EX_PROTOCOL = 76;
/** A MAILPEN_SENDMAIL_* variable holds a value that cannot work. */
export const EX_CONFIG = 78;
