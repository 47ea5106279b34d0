/**
 * The English catalog: every word of the server-rendered pages (login/pages.ts), of what the
 * routes put on them, and of the emails (`email`, rendered by email/messages.ts). It is the
 * source: its shape is `Messages`, which every other language's catalog must have key for key
 * (a missing or extra key fails to compile).
 *
 * An entry is a string, or a function of what it names. Where a sentence holds markup (a
 * client's name in bold, say), the entry takes that markup as `SafeHtml` and places it with
 * `html`: the page decides the markup and escapes the values, the catalog only the words and
 * their order.
 */
import { type EmailTemplate, type EmailWording, inHours } from '../email/wording.js';
import { html, type SafeHtml } from '../login/html.js';

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export const en = {
  fields: {
    email: 'Email',
    password: 'Password',
    name: 'Name',
    code: 'Code',
  },
  /** The link to the account page, on the pages where it helps. */
  manageAccount: 'Manage your account',
  login: {
    title: 'Sign in',
    continueTo: (client: SafeHtml) => html`to continue to ${client}`,
    submit: 'Sign in',
    forgot: 'Forgot password?',
    noAccount: 'No account?',
    createOne: 'Create one',
    cancel: 'Cancel',
    invalidCredentials: 'Invalid email or password.',
    continue: 'Continue',
    /** The tenant signs in through identity providers only (settings.passwordSignIn off). */
    noPasswords: 'Sign in with one of the ways below.',
    noPasswordsEmail: 'Enter your work email to go to its sign-in, or choose one of the ways below.',
    noRouteForEmail: 'No sign-in here is set up for that email address. Choose one of the ways below.',
    /** After a registration, new email or not: the same words either way. */
    registered:
      'Check your inbox: if this email was new here, we sent it a link that finishes creating the account; then sign in with the password you chose. If it has an account already, sign in.',
  },
  register: {
    title: 'Create your account',
    passwordHint: (min: number) => `At least ${min} characters.`,
    submit: 'Create account',
    haveAccount: 'Have an account?',
    signIn: 'Sign in',
    failed: 'Could not create the account.',
    invalidEmail: 'Enter a valid email address.',
  },
  /** Why a new password was refused, by the policy's error code (passwords/policy.ts). */
  passwordProblems: {
    password_too_short: (min: number) => `The password is too short. Use at least ${min} characters.`,
    password_too_long: (max: number) => `The password is too long. Use at most ${max} characters.`,
    password_too_common: 'This password is too common. Choose another.',
    password_is_email: 'The password must not be your email address.',
  },
  consent: {
    title: 'Allow access?',
    asks: (client: SafeHtml) => html`${client} asks to:`,
    /** What each OpenID Connect scope lets the application do. */
    scopes: {
      openid: 'know who you are',
      profile: 'see your name',
      email: 'see your email address',
      offline_access: 'stay signed in',
    },
    resource: (api: string) => `use ${api} on your behalf`,
    allow: 'Allow',
    deny: 'Deny',
  },
  logout: {
    title: 'Sign out',
    question: (tenant: string) => `Do you want to sign out of ${tenant}?`,
    submit: 'Sign out',
    stay: 'Stay signed in',
  },
  loggedOut: {
    title: 'Signed out',
    body: 'You have signed out. You can close this window.',
  },
  forgot: {
    title: 'Reset your password',
    intro: 'Enter the email address of your account. If it has one here, we send it a link to choose a new password.',
    submit: 'Send the link',
    backToSignIn: 'Back to sign-in',
    emailMissing: 'Enter the email address of your account.',
  },
  forgotSent: {
    title: 'Check your email',
    body: 'If an account exists for that address, we have sent it a link to choose a new password. The link works once, for a short time.',
  },
  reset: {
    title: 'Choose a new password',
    forAccount: (email: SafeHtml) => html`For ${email}. Every session of this account is signed out when it changes.`,
    newPassword: 'New password',
    newPasswordAgain: 'New password again',
    submit: 'Change the password',
    mismatch: 'The two passwords are not the same.',
    busy: 'Too many passwords are being checked right now. Please try again in a moment.',
  },
  resetDone: {
    title: 'Password changed',
    body: 'Your password has been changed and every session signed out. Go back to the application and sign in with the new password.',
  },
  verify: {
    title: 'Confirm your email address',
    confirmThat: (email: SafeHtml) => html`Confirm that ${email} is your email address.`,
    submit: 'Confirm',
    emailTaken: 'Another account has taken this email address meanwhile.',
  },
  verifyFirst: {
    title: 'Confirm your email address first',
    body: 'Before you can sign in, confirm your email address: open the link in the message we sent you, or enter its 6-digit code here.',
    submit: 'Confirm and sign in',
    resend: 'Send the message again',
    resent: (email: string) => `We sent a new message to ${email}.`,
    wrongCode: 'That code is not right, or no longer works. Check the newest message, or send a new one.',
  },
  verifyCode: {
    title: 'Confirm your email address',
    body: 'Enter your email address and the 6-digit code from the message we sent you.',
    submit: 'Confirm',
    wrongCode: 'That code is not right, or no longer works. Check the newest message.',
  },
  verified: {
    title: 'Email address confirmed',
    body: 'Your email address is confirmed. Go back to the application and sign in.',
  },
  linkInvalid: {
    title: 'This link does not work',
    body: 'This link has been used, has expired or is not valid. Links work once, for a short time.',
    askAgain: 'Ask for a new link',
    elsewhere: 'Sign in to the application to be sent a new one, or ask its administrators.',
  },
  tooManyRequests: {
    title: 'Too many attempts',
    body: (minutes: number) =>
      `Too many attempts from your network. Try again in ${plural(minutes, 'minute', 'minutes')}.`,
  },
  busy: {
    title: 'Try again in a moment',
    body: (seconds: number) =>
      `Too many sign-in attempts are being checked right now. Please wait ${plural(seconds, 'second', 'seconds')} and try again.`,
    back: 'Back to the form',
  },
  error: {
    title: 'Something went wrong',
    fallback: 'The request could not be completed.',
    code: 'Error code:',
  },
  /** What the routes say on the error page, or above a form sent again. */
  /** Federated sign-in (federation/): the provider buttons, linking, the upstream's errors. */
  federation: {
    signInWith: (provider: string) => `Sign in with ${provider}`,
    or: 'or',
    linkTitle: 'Link your account',
    linkBody: (provider: SafeHtml, email: SafeHtml) =>
      html`An account with ${email} exists here. Enter its password to sign in with ${provider} from now on too.`,
    linkSubmit: 'Link and sign in',
    chooseTitle: 'Finish signing in',
    chooseBody: (provider: SafeHtml) => html`This is your first sign-in here with ${provider}.`,
    create: 'Create a new account',
    linkExisting: 'Link an account you have',
    linkExistingBody:
      'Enter the email and password of your account here to sign in with this provider from now on too.',
    wrongPassword: 'Invalid email or password.',
    failed: 'The sign-in with the identity provider did not complete. Go back to the application and try again.',
    denied: 'The sign-in was cancelled at the identity provider.',
    expired:
      'This sign-in took too long or was started in another browser. Go back to the application and start again.',
    noAccount: 'No account here uses this identity, and this provider cannot create one.',
    noEmail: 'The identity provider did not say which email address is yours, so no account can be made.',
    accountExists:
      'An account with this email exists here, and it cannot be linked to this provider. Sign in with its password.',
    disabled: 'This account cannot sign in.',
    unavailable: 'The identity provider cannot be reached right now. Try again in a moment.',
    notFound: 'There is no such identity provider here.',
  },
  problems: {
    sessionExpired: 'Your session expired. Please try again.',
    interactionExpired:
      'This sign-in request has expired or is not valid in this browser. Go back to the application and start again.',
    interactionMismatch: 'This sign-in request does not match this browser.',
    unsupportedStep: (step: string) => `Unsupported step: ${step}`,
    unsafeText: 'The request holds characters that are not allowed (control characters).',
  },
  /** The account page (accounts/account-views.ts, account-page.ts). */
  account: {
    title: 'Your account',
    /** How dates are written (an Intl locale). */
    intlLocale: 'en-GB',
    confirmed: 'confirmed',
    notConfirmed: 'not confirmed',
    resendConfirmation: 'Send the confirmation message again',
    profileTitle: 'Profile',
    save: 'Save',
    emailTitle: 'Email address',
    emailIntro: 'The new address takes effect once you open the link we send to it. Your current address is told.',
    newEmail: 'New email address',
    yourPassword: 'Your password',
    changeEmail: 'Change the email address',
    passwordTitle: 'Password',
    passwordIntro: 'Changing it signs you out everywhere else.',
    noPasswordIntro:
      'You have no password here: you sign in through a provider. Set one to sign in with it too. Without a password, changes here ask you to sign in at your provider again.',
    setPassword: 'Set the password',
    currentPassword: 'Current password',
    sessionsTitle: 'Where you are signed in',
    unknownDevice: 'Unknown device',
    thisBrowser: 'this browser',
    /** `ip`: '' when unknown. */
    session: (signedIn: string, ip: string, lastUsed: string) =>
      `Signed in ${signedIn}${ip ? ` from ${ip}` : ''} · last used ${lastUsed}`,
    signOutOthers: 'Sign out everywhere else',
    onlyHere: 'You are signed in only here.',
    activityTitle: 'Recent security activity',
    nothingYet: 'Nothing yet.',
    /** The audit actions the page lists, as done and as failed. */
    activity: {
      'login.password': { ok: 'Signed in', failed: 'Failed sign-in' },
      'user.reauthenticate': { ok: 'Password confirmed', failed: 'Wrong password entered' },
      'user.password.change': { ok: 'Password changed', failed: 'Password change failed' },
      'user.password.reset': { ok: 'Password reset by email link', failed: 'Password reset failed' },
      'user.password.set': { ok: 'Password set by an administrator', failed: 'Password set failed' },
      'user.email.change': { ok: 'Email address changed', failed: 'Email change failed' },
      'user.email.verify': { ok: 'Email address confirmed', failed: 'Email confirmation failed' },
      'user.sessions.end': { ok: 'Signed out of sessions', failed: 'Signing out of sessions failed' },
      'user.disable': { ok: 'Account disabled', failed: 'Disabling failed' },
      'user.enable': { ok: 'Account enabled', failed: 'Enabling failed' },
      'user.sign_in.federated': { ok: 'Signed in with a linked provider', failed: 'Failed sign-in at a provider' },
      'user.identity.link': { ok: 'Way to sign in linked', failed: 'Linking a way to sign in failed' },
      'user.identity.unlink': { ok: 'Way to sign in unlinked', failed: 'Unlinking failed' },
    },
    methodsTitle: 'Ways to sign in',
    passwordMethod: 'Password',
    /** An identity at a provider: its email there (when known) and when it was linked. */
    linkedIdentity: (email: string | null, linkedAt: string) => `${email ? `${email} · ` : ''}linked ${linkedAt}`,
    unlink: 'Unlink',
    unlinkLabel: (provider: string) => `Unlink ${provider}`,
    linkTitle: 'Link another way to sign in',
    linkIntro: 'You sign in there once; from then on it signs you in here too.',
    linkPassword: 'Your password, to link it',
    linkWith: (provider: string) => `Link ${provider}`,
    deleteTitle: 'Delete your account',
    deleteIntro: 'This deletes your account here for good, and signs you out everywhere.',
    deleteConfirm: 'I want to delete my account',
    deleteSubmit: 'Delete my account',
    signOut: 'Sign out',
    deletedTitle: 'Account deleted',
    deletedBody: 'Your account has been deleted, and every session of it signed out.',
    /** What a change's 303 back to the page says there (`?done=`). */
    notices: {
      profile: 'Your profile is saved.',
      email: 'We sent a link to the new address. It becomes your address when you open it.',
      password: 'Your password is changed, and every other session signed out.',
      sessions: 'Every other session is signed out.',
      verification: 'We sent the confirmation message again.',
      ticket: 'The invitation is accepted.',
      identityLinked: 'The new way to sign in is linked.',
      identityUnlinked: 'That way to sign in is unlinked.',
      signedInAgain: 'You signed in again. You can make the change now.',
    },
    /** Why a way to sign in was not linked or unlinked (`?problem=` and the unlink form). */
    problems: {
      sessionExpired: 'This page was open too long. Try again.',
      linkNotAllowed: 'That way to sign in cannot be linked to your account.',
      linkExpired: 'Linking took too long, or did not start in this browser. Try again.',
      identityTaken:
        'That identity is linked to another account already. Sign in with it to use that account, or unlink it there first.',
      lastMethod: 'This is your only way to sign in. Link another way first.',
      unlinkNotAllowed: 'This way to sign in cannot be unlinked here.',
      wrongPassword: 'That is not your current password.',
      reauthUnsupported:
        'Your account has no password, and none of its providers can confirm here that it is you. Ask an administrator to make this change.',
    },
    signInUnfinished: 'The sign-in did not finish in this browser. Open your account page again to sign in.',
    nameTooLong: 'Enter a name of at most 200 characters.',
    sameEmail: 'That is your address already.',
    emailTaken: 'Another account has this email address.',
    wrongPassword: 'That is not your current password.',
    tooManyMessages: 'Too many messages went to that address lately. Try again later.',
    passwordsDiffer: 'The two new passwords are not the same.',
    tickToDelete: 'Tick the box to confirm that you want to delete your account.',
    lastAdmin: 'This account cannot be deleted here: it is the last administrator of this service.',
  },
  /** The ticket page, where an invitation is used (tickets/page-views.ts, page.ts). */
  ticket: {
    /** The welcome's words where the ticket type left them empty. */
    invited: 'You are invited',
    invitedTo: (tenant: string) => `You have been invited to ${tenant}.`,
    agree: 'I agree',
    continue: 'Continue',
    acceptTitle: 'Accept the invitation',
    signedInAs: (email: SafeHtml) => html`You are signed in as ${email}.`,
    acceptAs: (email: string) => `Accept as ${email}`,
    otherAccount: 'Use another account',
    haveAccount: 'Have an account here? Sign in to accept the invitation with it.',
    signIn: 'Sign in',
    createTitle: 'Create an account',
    createSubmit: 'Create the account and accept',
    refusedTitle: 'This invitation does not work',
    /** Why a ticket cannot be used, by `TicketRefusal`. */
    refusals: {
      invalid: 'This invitation link is not valid. Check that you opened the whole link from the message.',
      used: 'This invitation has been used already.',
      disabled: 'This invitation has been withdrawn.',
      reissued: 'A newer invitation replaced this one: use the link in the newest message.',
      expired: 'This invitation has expired.',
    },
    reissueIntro: 'The people who invited you can send you a new one.',
    reissueSubmit: 'Request a new invitation',
    reissueRequested: 'You have asked for a new invitation. It comes by email once it is sent.',
    tickToAgree: 'Tick the box to agree before you continue.',
    nameAndPassword: 'Enter a valid name and a password.',
    emailTaken: 'An account with this email address exists already: sign in to accept with it.',
    /** An invitation that names an address, and a browser signed in as another account. */
    forAnother: (invited: SafeHtml, current: SafeHtml) =>
      html`This invitation is for ${invited}; you are signed in as ${current}. Sign in as ${invited} to accept it.`,
    signInAs: (email: string) => `Sign in as ${email}`,
    /** After registering with an address the invitation did not name: the same words, new address or not. */
    registeredTitle: 'Check your inbox',
    registered:
      'If this email was new here, we sent it a link that finishes creating the account, with the invitation; then sign in with the password you chose. If it has an account already, we sent it a note: sign in and open the invitation again.',
  },
  /** The messages Latchkey sends, by template. */
  email: {
    password_reset: {
      subject: (t) => `Reset your ${t} password`,
      lines: (t, minutes) => [
        `Someone asked to reset the password of your ${t} account.`,
        `To choose a new password, open the link below within ${minutes} minutes. It works once.`,
      ],
      action: 'Choose a new password',
      after: 'If you did not ask for this, ignore this message: your password stays as it is.',
    },
    password_changed: {
      subject: (t) => `Your ${t} password was changed`,
      lines: (t) => [
        `The password of your ${t} account was just changed, and every session was signed out.`,
        'If this was not you, reset your password at once and tell the people who run this service.',
      ],
    },
    verify_email: {
      subject: (t) => `Confirm your email address for ${t}`,
      lines: (t, minutes) => [
        `Please confirm that this is the email address of your ${t} account.`,
        `Open the link below within ${Math.round(minutes / 60)} hours. It works once.`,
      ],
      action: 'Confirm my email address',
      code: (code, url) => `On another device? Enter the code ${code} where you are asked for it, or at ${url}.`,
      after: 'If you did not create an account or change your email, ignore this message.',
    },
    email_changed: {
      subject: (t) => `The email address of your ${t} account was changed`,
      lines: (t, _m, to) => [
        `The email address of your ${t} account was just changed from this address to ${to}. Messages about the account go there from now on.`,
        'If this was not you, tell the people who run this service at once.',
      ],
    },
    account_exists: {
      subject: (t) => `Someone tried to create a ${t} account with your email address`,
      lines: (t) => [
        `Someone tried to create a new ${t} account with this email address, which has one already. Nothing was changed.`,
        'If it was you, sign in with your password, or use "Forgot password?" on the sign-in page.',
      ],
    },
    invitation: {
      subject: (t) => `You are invited to ${t}`,
      lines: (t, minutes, title) => [
        ...(title ? [title] : []),
        `You have been invited to ${t}.`,
        `To accept, open the link below within ${inHours(minutes, ['hour', 'hours'], ['day', 'days'])}. It works once.`,
      ],
      action: 'Accept the invitation',
      after: 'If you did not expect this invitation, ignore this message.',
    },
  } satisfies Record<EmailTemplate, EmailWording>,
};

/** The shape of a language's catalog: English's, key for key. */
export type Messages = typeof en;
