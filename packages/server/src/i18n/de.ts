/**
 * The German catalog (formal "Sie", as the German emails): English's keys (`Messages`, en.ts),
 * each in German.
 */
import { inHours } from '../email/wording.js';
import { html, type SafeHtml } from '../login/html.js';
import type { Messages } from './en.js';

export const de: Messages = {
  fields: {
    email: 'E-Mail',
    password: 'Passwort',
    name: 'Name',
    code: 'Code',
  },
  manageAccount: 'Konto verwalten',
  login: {
    title: 'Anmelden',
    continueTo: (client: SafeHtml) => html`um mit ${client} fortzufahren`,
    submit: 'Anmelden',
    forgot: 'Passwort vergessen?',
    noAccount: 'Noch kein Konto?',
    createOne: 'Jetzt anlegen',
    cancel: 'Abbrechen',
    continue: 'Weiter',
    noPasswords: 'Melden Sie sich auf einem der folgenden Wege an.',
    noPasswordsEmail:
      'Geben Sie Ihre geschäftliche E-Mail-Adresse ein, um zu ihrer Anmeldung zu gelangen, oder wählen Sie einen der folgenden Wege.',
    noRouteForEmail:
      'Für diese E-Mail-Adresse ist hier keine Anmeldung eingerichtet. Wählen Sie einen der folgenden Wege.',
    invalidCredentials: 'E-Mail-Adresse oder Passwort ist falsch.',
    registered:
      'Sehen Sie in Ihrem Posteingang nach: War diese E-Mail-Adresse hier neu, haben wir ihr einen Link geschickt, mit dem Sie das Konto fertig anlegen; melden Sie sich danach mit dem gewählten Passwort an. Gibt es bereits ein Konto dafür, melden Sie sich an.',
  },
  register: {
    title: 'Neues Konto anlegen',
    passwordHint: (min: number) => `Mindestens ${min} Zeichen.`,
    submit: 'Konto anlegen',
    haveAccount: 'Sie haben schon ein Konto?',
    signIn: 'Anmelden',
    failed: 'Das Konto konnte nicht angelegt werden.',
    invalidEmail: 'Geben Sie eine gültige E-Mail-Adresse ein.',
  },
  passwordProblems: {
    password_too_short: (min: number) => `Das Passwort ist zu kurz. Verwenden Sie mindestens ${min} Zeichen.`,
    password_too_long: (max: number) => `Das Passwort ist zu lang. Verwenden Sie höchstens ${max} Zeichen.`,
    password_too_common: 'Dieses Passwort ist zu verbreitet. Wählen Sie ein anderes.',
    password_is_email: 'Das Passwort darf nicht Ihre E-Mail-Adresse sein.',
  },
  consent: {
    title: 'Zugriff erlauben?',
    asks: (client: SafeHtml) => html`${client} möchte:`,
    scopes: {
      openid: 'wissen, wer Sie sind',
      profile: 'Ihren Namen sehen',
      email: 'Ihre E-Mail-Adresse sehen',
      offline_access: 'Sie angemeldet halten',
    },
    resource: (api: string) => `${api} in Ihrem Namen nutzen`,
    allow: 'Erlauben',
    deny: 'Ablehnen',
  },
  logout: {
    title: 'Abmelden',
    question: (tenant: string) => `Möchten Sie sich von ${tenant} abmelden?`,
    submit: 'Abmelden',
    stay: 'Angemeldet bleiben',
  },
  loggedOut: {
    title: 'Abgemeldet',
    body: 'Sie haben sich abgemeldet. Sie können dieses Fenster schließen.',
  },
  forgot: {
    title: 'Passwort zurücksetzen',
    intro:
      'Geben Sie die E-Mail-Adresse Ihres Kontos ein. Gibt es hier ein Konto dazu, schicken wir ihr einen Link, mit dem Sie ein neues Passwort wählen.',
    submit: 'Link senden',
    backToSignIn: 'Zurück zur Anmeldung',
    emailMissing: 'Geben Sie die E-Mail-Adresse Ihres Kontos ein.',
  },
  forgotSent: {
    title: 'Sehen Sie in Ihren E-Mails nach',
    body: 'Falls es ein Konto mit dieser Adresse gibt, haben wir ihr einen Link geschickt, mit dem Sie ein neues Passwort wählen. Der Link funktioniert nur einmal und nur für kurze Zeit.',
  },
  reset: {
    title: 'Neues Passwort wählen',
    forAccount: (email: SafeHtml) =>
      html`Für ${email}. Sobald es geändert ist, werden alle Sitzungen dieses Kontos abgemeldet.`,
    newPassword: 'Neues Passwort',
    newPasswordAgain: 'Neues Passwort wiederholen',
    submit: 'Passwort ändern',
    mismatch: 'Die beiden Passwörter stimmen nicht überein.',
    busy: 'Gerade werden zu viele Passwörter geprüft. Bitte versuchen Sie es gleich noch einmal.',
  },
  resetDone: {
    title: 'Passwort geändert',
    body: 'Ihr Passwort wurde geändert, und alle Sitzungen wurden abgemeldet. Kehren Sie zur Anwendung zurück und melden Sie sich mit dem neuen Passwort an.',
  },
  verify: {
    title: 'E-Mail-Adresse bestätigen',
    confirmThat: (email: SafeHtml) => html`Bestätigen Sie, dass ${email} Ihre E-Mail-Adresse ist.`,
    submit: 'Bestätigen',
    emailTaken: 'Ein anderes Konto hat diese E-Mail-Adresse inzwischen übernommen.',
  },
  verifyFirst: {
    title: 'Bestätigen Sie zuerst Ihre E-Mail-Adresse',
    body: 'Bevor Sie sich anmelden können, bestätigen Sie Ihre E-Mail-Adresse: Öffnen Sie den Link in der Nachricht, die wir Ihnen geschickt haben, oder geben Sie hier den 6-stelligen Code daraus ein.',
    submit: 'Bestätigen und anmelden',
    resend: 'Nachricht erneut senden',
    resent: (email: string) => `Wir haben eine neue Nachricht an ${email} geschickt.`,
    wrongCode:
      'Dieser Code ist falsch oder gilt nicht mehr. Sehen Sie in der neuesten Nachricht nach, oder lassen Sie sich eine neue senden.',
  },
  verifyCode: {
    title: 'E-Mail-Adresse bestätigen',
    body: 'Geben Sie Ihre E-Mail-Adresse und den 6-stelligen Code aus der Nachricht ein, die wir Ihnen geschickt haben.',
    submit: 'Bestätigen',
    wrongCode: 'Dieser Code ist falsch oder gilt nicht mehr. Sehen Sie in der neuesten Nachricht nach.',
  },
  verified: {
    title: 'E-Mail-Adresse bestätigt',
    body: 'Ihre E-Mail-Adresse ist bestätigt. Kehren Sie zur Anwendung zurück und melden Sie sich an.',
  },
  linkInvalid: {
    title: 'Dieser Link funktioniert nicht',
    body: 'Dieser Link wurde schon benutzt, ist abgelaufen oder ungültig. Links funktionieren nur einmal und nur für kurze Zeit.',
    askAgain: 'Neuen Link anfordern',
    elsewhere:
      'Melden Sie sich bei der Anwendung an, um einen neuen zu erhalten, oder wenden Sie sich an ihre Administratoren.',
  },
  tooManyRequests: {
    title: 'Zu viele Versuche',
    body: (minutes: number) =>
      `Zu viele Versuche aus Ihrem Netzwerk. Versuchen Sie es in ${minutes === 1 ? 'einer Minute' : `${minutes} Minuten`} erneut.`,
  },
  busy: {
    title: 'Versuchen Sie es gleich noch einmal',
    body: (seconds: number) =>
      `Gerade werden zu viele Anmeldeversuche geprüft. Bitte warten Sie ${seconds === 1 ? 'eine Sekunde' : `${seconds} Sekunden`} und versuchen Sie es dann erneut.`,
    back: 'Zurück zum Formular',
  },
  error: {
    title: 'Etwas ist schiefgelaufen',
    fallback: 'Die Anfrage konnte nicht ausgeführt werden.',
    code: 'Fehlercode:',
  },
  /** Föderierte Anmeldung (federation/). */
  federation: {
    signInWith: (provider: string) => `Mit ${provider} anmelden`,
    or: 'oder',
    linkTitle: 'Konto verknüpfen',
    linkBody: (provider: SafeHtml, email: SafeHtml) =>
      html`Hier gibt es bereits ein Konto mit ${email}. Geben Sie sein Passwort ein, um sich künftig auch mit ${provider} anzumelden.`,
    linkSubmit: 'Verknüpfen und anmelden',
    chooseTitle: 'Anmeldung abschließen',
    chooseBody: (provider: SafeHtml) => html`Sie melden sich zum ersten Mal hier mit ${provider} an.`,
    create: 'Neues Konto erstellen',
    linkExisting: 'Vorhandenes Konto verknüpfen',
    linkExistingBody:
      'Geben Sie E-Mail-Adresse und Passwort Ihres Kontos hier ein, um sich künftig auch mit diesem Anbieter anzumelden.',
    wrongPassword: 'E-Mail-Adresse oder Passwort ist falsch.',
    failed:
      'Die Anmeldung beim Identitätsanbieter wurde nicht abgeschlossen. Kehren Sie zur Anwendung zurück und versuchen Sie es erneut.',
    denied: 'Die Anmeldung wurde beim Identitätsanbieter abgebrochen.',
    expired:
      'Diese Anmeldung hat zu lange gedauert oder wurde in einem anderen Browser begonnen. Kehren Sie zur Anwendung zurück und beginnen Sie neu.',
    noAccount: 'Kein Konto hier nutzt diese Identität, und dieser Anbieter kann keines anlegen.',
    noEmail: 'Der Identitätsanbieter hat Ihre E-Mail-Adresse nicht genannt, daher kann kein Konto angelegt werden.',
    accountExists:
      'Hier gibt es bereits ein Konto mit dieser E-Mail-Adresse, das nicht mit diesem Anbieter verknüpft werden kann. Melden Sie sich mit seinem Passwort an.',
    disabled: 'Dieses Konto kann sich nicht anmelden.',
    unavailable: 'Der Identitätsanbieter ist gerade nicht erreichbar. Versuchen Sie es gleich noch einmal.',
    notFound: 'Diesen Identitätsanbieter gibt es hier nicht.',
  },
  problems: {
    sessionExpired: 'Ihre Sitzung ist abgelaufen. Bitte versuchen Sie es erneut.',
    interactionExpired:
      'Diese Anmeldeanfrage ist abgelaufen oder in diesem Browser nicht gültig. Kehren Sie zur Anwendung zurück und beginnen Sie von vorn.',
    interactionMismatch: 'Diese Anmeldeanfrage passt nicht zu diesem Browser.',
    unsupportedStep: (step: string) => `Nicht unterstützter Schritt: ${step}`,
    unsafeText: 'Die Anfrage enthält unzulässige Zeichen (Steuerzeichen).',
  },
  account: {
    title: 'Ihr Konto',
    intlLocale: 'de-DE',
    confirmed: 'bestätigt',
    notConfirmed: 'nicht bestätigt',
    resendConfirmation: 'Bestätigungsnachricht erneut senden',
    profileTitle: 'Profil',
    save: 'Speichern',
    emailTitle: 'E-Mail-Adresse',
    emailIntro:
      'Die neue Adresse gilt, sobald Sie den Link öffnen, den wir an sie schicken. Ihre bisherige Adresse wird benachrichtigt.',
    newEmail: 'Neue E-Mail-Adresse',
    yourPassword: 'Ihr Passwort',
    changeEmail: 'E-Mail-Adresse ändern',
    passwordTitle: 'Passwort',
    passwordIntro: 'Wenn Sie es ändern, werden Sie überall sonst abgemeldet.',
    noPasswordIntro:
      'Sie haben hier kein Passwort: Sie melden sich über einen Anbieter an. Legen Sie eines fest, um sich auch damit anzumelden. Ohne Passwort verlangen Änderungen hier, dass Sie sich bei Ihrem Anbieter erneut anmelden.',
    setPassword: 'Passwort festlegen',
    currentPassword: 'Aktuelles Passwort',
    sessionsTitle: 'Wo Sie angemeldet sind',
    unknownDevice: 'Unbekanntes Gerät',
    thisBrowser: 'dieser Browser',
    session: (signedIn: string, ip: string, lastUsed: string) =>
      `Angemeldet am ${signedIn}${ip ? ` von ${ip}` : ''} · zuletzt genutzt am ${lastUsed}`,
    signOutOthers: 'Überall sonst abmelden',
    onlyHere: 'Sie sind nur hier angemeldet.',
    activityTitle: 'Letzte sicherheitsrelevante Aktivitäten',
    nothingYet: 'Noch nichts.',
    activity: {
      'login.password': { ok: 'Angemeldet', failed: 'Fehlgeschlagene Anmeldung' },
      'user.reauthenticate': { ok: 'Passwort bestätigt', failed: 'Falsches Passwort eingegeben' },
      'user.password.change': { ok: 'Passwort geändert', failed: 'Passwortänderung fehlgeschlagen' },
      'user.password.reset': {
        ok: 'Passwort per E-Mail-Link zurückgesetzt',
        failed: 'Zurücksetzen des Passworts fehlgeschlagen',
      },
      'user.password.set': {
        ok: 'Passwort von einem Administrator gesetzt',
        failed: 'Setzen des Passworts fehlgeschlagen',
      },
      'user.email.change': { ok: 'E-Mail-Adresse geändert', failed: 'Änderung der E-Mail-Adresse fehlgeschlagen' },
      'user.email.verify': {
        ok: 'E-Mail-Adresse bestätigt',
        failed: 'Bestätigung der E-Mail-Adresse fehlgeschlagen',
      },
      'user.sessions.end': { ok: 'Von Sitzungen abgemeldet', failed: 'Abmelden von Sitzungen fehlgeschlagen' },
      'user.disable': { ok: 'Konto deaktiviert', failed: 'Deaktivieren fehlgeschlagen' },
      'user.enable': { ok: 'Konto aktiviert', failed: 'Aktivieren fehlgeschlagen' },
      'user.sign_in.federated': {
        ok: 'Mit einem verknüpften Anbieter angemeldet',
        failed: 'Fehlgeschlagene Anmeldung bei einem Anbieter',
      },
      'user.identity.link': { ok: 'Anmeldeweg verknüpft', failed: 'Verknüpfen eines Anmeldewegs fehlgeschlagen' },
      'user.identity.unlink': { ok: 'Anmeldeweg getrennt', failed: 'Trennen fehlgeschlagen' },
    },
    methodsTitle: 'Anmeldewege',
    passwordMethod: 'Passwort',
    linkedIdentity: (email: string | null, linkedAt: string) => `${email ? `${email} · ` : ''}verknüpft ${linkedAt}`,
    unlink: 'Trennen',
    unlinkLabel: (provider: string) => `${provider} trennen`,
    linkTitle: 'Einen weiteren Anmeldeweg verknüpfen',
    linkIntro: 'Sie melden sich dort einmal an; danach meldet er Sie auch hier an.',
    linkPassword: 'Ihr Passwort, um ihn zu verknüpfen',
    linkWith: (provider: string) => `${provider} verknüpfen`,
    deleteTitle: 'Konto löschen',
    deleteIntro: 'Damit wird Ihr Konto hier endgültig gelöscht, und Sie werden überall abgemeldet.',
    deleteConfirm: 'Ich möchte mein Konto löschen',
    deleteSubmit: 'Mein Konto löschen',
    signOut: 'Abmelden',
    deletedTitle: 'Konto gelöscht',
    deletedBody: 'Ihr Konto wurde gelöscht, und alle seine Sitzungen wurden abgemeldet.',
    notices: {
      profile: 'Ihr Profil ist gespeichert.',
      email: 'Wir haben einen Link an die neue Adresse geschickt. Sie wird Ihre Adresse, sobald Sie ihn öffnen.',
      password: 'Ihr Passwort ist geändert, und alle anderen Sitzungen wurden abgemeldet.',
      sessions: 'Alle anderen Sitzungen sind abgemeldet.',
      verification: 'Wir haben die Bestätigungsnachricht erneut geschickt.',
      ticket: 'Die Einladung ist angenommen.',
      identityLinked: 'Der neue Anmeldeweg ist verknüpft.',
      identityUnlinked: 'Dieser Anmeldeweg ist getrennt.',
      signedInAgain: 'Sie haben sich erneut angemeldet. Sie können die Änderung jetzt vornehmen.',
    },
    problems: {
      sessionExpired: 'Diese Seite war zu lange geöffnet. Versuchen Sie es erneut.',
      linkNotAllowed: 'Dieser Anmeldeweg kann nicht mit Ihrem Konto verknüpft werden.',
      linkExpired:
        'Das Verknüpfen hat zu lange gedauert oder wurde nicht in diesem Browser begonnen. Versuchen Sie es erneut.',
      identityTaken:
        'Diese Identität ist bereits mit einem anderen Konto verknüpft. Melden Sie sich damit an, um jenes Konto zu nutzen, oder trennen Sie sie dort zuerst.',
      lastMethod: 'Das ist Ihr einziger Anmeldeweg. Verknüpfen Sie zuerst einen weiteren.',
      unlinkNotAllowed: 'Dieser Anmeldeweg kann hier nicht getrennt werden.',
      wrongPassword: 'Das ist nicht Ihr aktuelles Passwort.',
      reauthUnsupported:
        'Ihr Konto hat kein Passwort, und keiner seiner Anbieter kann hier bestätigen, dass Sie es sind. Bitten Sie einen Administrator, diese Änderung vorzunehmen.',
    },
    signInUnfinished:
      'Die Anmeldung wurde in diesem Browser nicht abgeschlossen. Öffnen Sie Ihre Kontoseite erneut, um sich anzumelden.',
    nameTooLong: 'Geben Sie einen Namen mit höchstens 200 Zeichen ein.',
    sameEmail: 'Das ist bereits Ihre Adresse.',
    emailTaken: 'Ein anderes Konto hat diese E-Mail-Adresse.',
    wrongPassword: 'Das ist nicht Ihr aktuelles Passwort.',
    tooManyMessages: 'An diese Adresse gingen zuletzt zu viele Nachrichten. Versuchen Sie es später erneut.',
    passwordsDiffer: 'Die beiden neuen Passwörter stimmen nicht überein.',
    tickToDelete: 'Setzen Sie das Häkchen, um zu bestätigen, dass Sie Ihr Konto löschen möchten.',
    lastAdmin: 'Dieses Konto kann hier nicht gelöscht werden: Es ist der letzte Administrator dieses Dienstes.',
  },
  ticket: {
    invited: 'Sie sind eingeladen',
    invitedTo: (tenant: string) => `Sie wurden zu ${tenant} eingeladen.`,
    agree: 'Ich stimme zu',
    continue: 'Weiter',
    acceptTitle: 'Einladung annehmen',
    signedInAs: (email: SafeHtml) => html`Sie sind als ${email} angemeldet.`,
    acceptAs: (email: string) => `Als ${email} annehmen`,
    otherAccount: 'Ein anderes Konto verwenden',
    haveAccount: 'Sie haben hier schon ein Konto? Melden Sie sich an, um die Einladung damit anzunehmen.',
    signIn: 'Anmelden',
    createTitle: 'Konto anlegen',
    createSubmit: 'Konto anlegen und annehmen',
    refusedTitle: 'Diese Einladung funktioniert nicht',
    refusals: {
      invalid:
        'Dieser Einladungslink ist ungültig. Prüfen Sie, ob Sie den vollständigen Link aus der Nachricht geöffnet haben.',
      used: 'Diese Einladung wurde bereits verwendet.',
      disabled: 'Diese Einladung wurde zurückgezogen.',
      reissued: 'Eine neuere Einladung hat diese ersetzt: Verwenden Sie den Link aus der neuesten Nachricht.',
      expired: 'Diese Einladung ist abgelaufen.',
    },
    reissueIntro: 'Wer Sie eingeladen hat, kann Ihnen eine neue schicken.',
    reissueSubmit: 'Neue Einladung anfordern',
    reissueRequested: 'Sie haben eine neue Einladung angefordert. Sie kommt per E-Mail, sobald sie verschickt ist.',
    tickToAgree: 'Setzen Sie das Häkchen, um zuzustimmen, bevor Sie fortfahren.',
    nameAndPassword: 'Geben Sie einen gültigen Namen und ein Passwort ein.',
    emailTaken:
      'Es gibt bereits ein Konto mit dieser E-Mail-Adresse: Melden Sie sich an, um die Einladung damit anzunehmen.',
    forAnother: (invited: SafeHtml, current: SafeHtml) =>
      html`Diese Einladung gilt für ${invited}; Sie sind als ${current} angemeldet. Melden Sie sich als ${invited} an, um sie anzunehmen.`,
    signInAs: (email: string) => `Als ${email} anmelden`,
    registeredTitle: 'Sehen Sie in Ihr Postfach',
    registered:
      'War diese E-Mail-Adresse hier neu, haben wir ihr einen Link geschickt, der das Konto mit der Einladung fertig anlegt; melden Sie sich danach mit dem gewählten Passwort an. Hat sie schon ein Konto, haben wir ihr einen Hinweis geschickt: Melden Sie sich an und öffnen Sie die Einladung erneut.',
  },
  email: {
    password_reset: {
      subject: (t) => `${t}: Passwort zurücksetzen`,
      lines: (t, minutes) => [
        `Jemand möchte das Passwort Ihres ${t}-Kontos zurücksetzen.`,
        `Öffnen Sie innerhalb von ${minutes} Minuten den Link unten, um ein neues Passwort zu wählen. Er funktioniert nur einmal.`,
      ],
      action: 'Neues Passwort wählen',
      after: 'Wenn Sie das nicht angefordert haben, ignorieren Sie diese Nachricht: Ihr Passwort bleibt unverändert.',
    },
    password_changed: {
      subject: (t) => `${t}: Ihr Passwort wurde geändert`,
      lines: (t) => [
        `Das Passwort Ihres ${t}-Kontos wurde soeben geändert, und alle Sitzungen wurden abgemeldet.`,
        'Falls Sie das nicht waren, setzen Sie Ihr Passwort sofort zurück und informieren Sie die Betreiber dieses Dienstes.',
      ],
    },
    verify_email: {
      subject: (t) => `${t}: Bestätigen Sie Ihre E-Mail-Adresse`,
      lines: (t, minutes) => [
        `Bitte bestätigen Sie, dass dies die E-Mail-Adresse Ihres ${t}-Kontos ist.`,
        `Öffnen Sie den Link unten innerhalb von ${Math.round(minutes / 60)} Stunden. Er funktioniert nur einmal.`,
      ],
      action: 'E-Mail-Adresse bestätigen',
      code: (code, url) =>
        `Auf einem anderen Gerät? Geben Sie den Code ${code} dort ein, wo danach gefragt wird, oder unter ${url}.`,
      after:
        'Wenn Sie kein Konto angelegt und Ihre E-Mail-Adresse nicht geändert haben, ignorieren Sie diese Nachricht.',
    },
    email_changed: {
      subject: (t) => `${t}: Die E-Mail-Adresse Ihres Kontos wurde geändert`,
      lines: (t, _m, to) => [
        `Die E-Mail-Adresse Ihres ${t}-Kontos wurde soeben von dieser Adresse zu ${to} geändert. Nachrichten zum Konto gehen ab jetzt dorthin.`,
        'Wenn Sie das nicht waren, wenden Sie sich sofort an die Betreiber dieses Dienstes.',
      ],
    },
    account_exists: {
      subject: (t) => `${t}: Jemand wollte mit Ihrer E-Mail-Adresse ein Konto anlegen`,
      lines: (t) => [
        `Jemand wollte mit dieser E-Mail-Adresse ein neues ${t}-Konto anlegen; sie hat bereits eines. Es wurde nichts geändert.`,
        'Wenn Sie es waren, melden Sie sich mit Ihrem Passwort an, oder nutzen Sie „Passwort vergessen?" auf der Anmeldeseite.',
      ],
    },
    invitation: {
      subject: (t) => `Einladung zu ${t}`,
      lines: (t, minutes, title) => [
        ...(title ? [title] : []),
        `Sie wurden zu ${t} eingeladen.`,
        `Öffnen Sie den Link unten innerhalb von ${inHours(minutes, ['Stunde', 'Stunden'], ['Tag', 'Tagen'])}, um die Einladung anzunehmen. Er funktioniert nur einmal.`,
      ],
      action: 'Einladung annehmen',
      after: 'Wenn Sie keine Einladung erwartet haben, ignorieren Sie diese Nachricht.',
    },
  },
};
