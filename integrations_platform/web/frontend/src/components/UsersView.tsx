// The users view (admins): every account with its role, whether it has a password and its
// last sign-in; adding a user (with a password, or a one-time sign-in link shown once),
// changing a user's role, and removing a user.

import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";

import { api, ApiError, describeError, seg } from "@/lib/api";
import { ROLE_HELP, ROLE_LABELS, ROLES } from "@/lib/roles";
import type { Me, Role, User } from "@/lib/types";

import { Hidden, TimeText } from "./common";
import { useConfirm } from "./Confirm";
import { useToast } from "./Toasts";

/** The API's shortest accepted password. */
export const MIN_PASSWORD_LENGTH = 12;

interface Props {
  me: Me;
}

interface NewLink {
  name: string;
  url: string;
}

export function UsersView({ me }: Props) {
  const toast = useToast();
  const confirm = useConfirm();
  const [users, setUsers] = useState<User[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [link, setLink] = useState<NewLink | null>(null);

  // Bumped to read the list again (after a change).
  const [version, setVersion] = useState(0);
  const load = useCallback(() => setVersion((v) => v + 1), []);

  useEffect(() => {
    let live = true;
    api<User[]>("GET", "/api/v1/users")
      .then(({ data }) => {
        if (!live) return;
        setUsers([...data].sort((x, y) => x.name.localeCompare(y.name)));
        setFailure(null);
      })
      .catch((error: unknown) => { if (live) setFailure(describeError(error)); });
    return () => { live = false; };
  }, [version]);

  const changeRole = async (user: User, role: Role): Promise<boolean> => {
    try {
      await api<User>("PATCH", `/api/v1/users/${seg(user.name)}`, { body: { role } });
      toast(`${user.name} is now ${ROLE_LABELS[role].toLowerCase()}.`, { kind: "success" });
      load();
      return true;
    } catch (error) {
      toast(describeError(error), { kind: "error", timeoutMs: 15000 });
      return false;
    }
  };

  const remove = async (user: User) => {
    const ok = await confirm({
      title: `Remove ${user.name}?`,
      message: `'${user.name}' can no longer sign in. What they changed stays in the audit trail.`,
      confirmLabel: `Remove ${user.name}`,
      cancelLabel: "Keep the user",
    });
    if (!ok) return;
    try {
      await api("DELETE", `/api/v1/users/${seg(user.name)}`);
      toast(`Removed ${user.name}.`, { kind: "success" });
      if (link?.name === user.name) setLink(null);
    } catch (error) {
      toast(describeError(error), { kind: "error", timeoutMs: 15000 });
    }
    load();
    document.getElementById("users-title")?.focus();
  };

  return (
    <section id="users" className="panel" aria-labelledby="users-title">
      <h2 id="users-title" tabIndex={-1}>Users</h2>
      <p className="muted">
        Who can sign in, and what each may do: a viewer {ROLE_HELP.viewer}; an editor {ROLE_HELP.editor}; an admin {ROLE_HELP.admin}.
      </p>
      {failure ? <p className="error-summary" role="alert">{failure}</p> : null}
      {users === null && !failure ? <p className="muted">Loading…</p> : null}
      {users !== null ? (
        <div className="table-wrap">
          <table id="users-table" className="installed">
            <caption className="sr-only">Users, with their role, password and last sign-in</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Password</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">Added</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {users.map((user) => (
                <UserRow key={`${user.name}:${user.role}`} user={user} isMe={user.name === me.name}
                  onChangeRole={changeRole} onRemove={(u) => void remove(u)} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {link ? <SignInLink link={link} onDone={() => setLink(null)} /> : null}
      <AddUserForm onAdded={(user) => {
        toast(`Added ${user.name} (${ROLE_LABELS[user.role].toLowerCase()}).`, { kind: "success" });
        setLink(user.sign_in_link ? { name: user.name, url: new URL(user.sign_in_link, window.location.origin).href } : null);
        load();
      }} />
    </section>
  );
}

interface RowProps {
  user: User;
  isMe: boolean;
  onChangeRole: (user: User, role: Role) => Promise<boolean>;
  onRemove: (user: User) => void;
}

function UserRow({ user, isMe, onChangeRole, onRemove }: RowProps) {
  const [draft, setDraft] = useState<Role>(user.role);
  const [busy, setBusy] = useState(false);
  const selectId = `role-of-${user.name}`;
  return (
    <tr data-user={user.name} data-role={user.role}>
      <th scope="row">
        <span className="name">{user.name}</span>
        {isMe ? <span className="muted small"> (you)</span> : null}
      </th>
      <td>
        {isMe ? (
          <span className={`badge ${roleBadge(user.role)}`}>{ROLE_LABELS[user.role]}</span>
        ) : (
          <select id={selectId} aria-label={`Role of ${user.name}`} value={draft} className="inline-select"
            onChange={(event) => setDraft(event.target.value as Role)}>
            {ROLES.map((role) => <option key={role} value={role}>{ROLE_LABELS[role]}</option>)}
          </select>
        )}
      </td>
      <td>{user.has_password ? "Set" : <span className="muted">Not set</span>}</td>
      <td>{user.last_sign_in_at ? <TimeText iso={user.last_sign_in_at} /> : <span className="muted">Never</span>}</td>
      <td><TimeText iso={user.created_at} /></td>
      <td className="actions">
        {isMe ? <span className="muted small">Another admin changes your own account.</span> : (
          <div className="action-buttons">
            <button type="button" disabled={busy || draft === user.role} onClick={async () => {
              setBusy(true);
              const changed = await onChangeRole(user, draft);
              setBusy(false);
              if (!changed) setDraft(user.role);
            }}>
              Change role<Hidden>{` of ${user.name}`}</Hidden>
            </button>
            <button type="button" className="danger-outline" onClick={() => onRemove(user)}>
              Remove<Hidden>{` ${user.name}`}</Hidden>
            </button>
          </div>
        )}
      </td>
    </tr>
  );
}

export function roleBadge(role: Role): string {
  return role === "admin" ? "badge-busy" : role === "editor" ? "badge-on" : "badge-off";
}

/** The one-time sign-in link of a user just added without a password: shown once. */
function SignInLink({ link, onDone }: { link: NewLink; onDone: () => void }) {
  const toast = useToast();
  const field = useRef<HTMLInputElement>(null);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    box.current?.focus();
  }, [link]);

  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(link.url);
      toast("Copied the sign-in link.", { kind: "success" });
    } catch {
      // Without the clipboard API (a page served over plain HTTP on another host): the
      // link is selected, for Ctrl+C.
      field.current?.select();
      toast("The browser does not allow copying here: the link is selected, press Ctrl+C (⌘C) to copy it.", { kind: "info" });
    }
  };

  return (
    <div id="sign-in-link" className="result result-ok link-box" role="region" aria-labelledby="sign-in-link-title" tabIndex={-1} ref={box}>
      <p id="sign-in-link-title" className="result-title">Send {link.name} this sign-in link</p>
      <p>
        It signs {link.name} in once. It is shown only now;
        {" "}<code>integrations users link {link.name}</code> makes a new one.
      </p>
      <div className="link-row">
        <label htmlFor="sign-in-link-url" className="sr-only">{`Sign-in link for ${link.name}`}</label>
        <input ref={field} id="sign-in-link-url" type="text" readOnly value={link.url} spellCheck={false}
          onFocus={(event) => event.target.select()} />
        <button type="button" className="primary" onClick={() => void copy()}>Copy link</button>
        <button type="button" onClick={onDone}>Done</button>
      </div>
    </div>
  );
}

/** A field's own message among the API's field_errors ("name", "body.password", ...). */
function fieldError(errors: Record<string, string>, field: string): string | undefined {
  const key = Object.keys(errors).find((k) => k === field || k.endsWith(`.${field}`));
  return key ? errors[key] : undefined;
}

function AddUserForm({ onAdded }: { onAdded: (user: User) => void }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<{ name?: string; role?: string; password?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const nameField = useRef<HTMLInputElement>(null);
  const passwordField = useRef<HTMLInputElement>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const wanted = name.trim();
    const found: typeof errors = {};
    if (!wanted) found.name = "Enter a name.";
    if (password && password.length < MIN_PASSWORD_LENGTH) {
      found.password = `A password has at least ${MIN_PASSWORD_LENGTH} characters; leave it blank to get a sign-in link instead.`;
    }
    setErrors(found);
    if (found.name || found.password) {
      (found.name ? nameField : passwordField).current?.focus();
      return;
    }
    setBusy(true);
    try {
      const { data } = await api<User>("POST", "/api/v1/users", { body: { name: wanted, role, ...(password ? { password } : {}) } });
      setName("");
      setPassword("");
      setRole("viewer");
      onAdded(data);
    } catch (error) {
      if (error instanceof ApiError && Object.keys(error.fieldErrors).length) {
        const shown = {
          name: fieldError(error.fieldErrors, "name"),
          role: fieldError(error.fieldErrors, "role"),
          password: fieldError(error.fieldErrors, "password"),
        };
        setErrors({ ...shown, form: shown.name || shown.role || shown.password ? undefined : error.summary });
        if (shown.password) passwordField.current?.focus();
        else nameField.current?.focus();
      } else {
        setErrors({ form: describeError(error) });
        nameField.current?.focus();
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <form id="add-user-form" className="add-user" noValidate onSubmit={submit} aria-labelledby="add-user-title">
      <h3 id="add-user-title">Add user</h3>
      <p id="add-user-error" className="error-summary" role="alert" hidden={!errors.form}>{errors.form}</p>
      <div className="filters">
        <div className={`field${errors.name ? " invalid" : ""}`}>
          <label htmlFor="new-user-name">Name</label>
          <input ref={nameField} id="new-user-name" name="name" type="text" autoComplete="off" spellCheck={false} autoCapitalize="none"
            aria-required="true" aria-invalid={errors.name ? true : undefined} aria-describedby="new-user-name-error"
            value={name} onChange={(event) => setName(event.target.value)} />
          <p id="new-user-name-error" className="error" hidden={!errors.name}>{errors.name}</p>
        </div>
        <div className={`field${errors.role ? " invalid" : ""}`}>
          <label htmlFor="new-user-role">Role</label>
          <select id="new-user-role" name="role" value={role} aria-describedby="new-user-role-help new-user-role-error"
            onChange={(event) => setRole(event.target.value as Role)}>
            {ROLES.map((r) => <option key={r} value={r}>{ROLE_LABELS[r]}</option>)}
          </select>
          <p id="new-user-role-help" className="help">{`${ROLE_LABELS[role]}: ${ROLE_HELP[role]}.`}</p>
          <p id="new-user-role-error" className="error" hidden={!errors.role}>{errors.role}</p>
        </div>
        <div className={`field${errors.password ? " invalid" : ""}`}>
          <label htmlFor="new-user-password">Password (optional)</label>
          <input ref={passwordField} id="new-user-password" name="new-password" type="password" autoComplete="new-password"
            aria-invalid={errors.password ? true : undefined} aria-describedby="new-user-password-help new-user-password-error"
            value={password} onChange={(event) => setPassword(event.target.value)} />
          <p id="new-user-password-help" className="help">
            At least {MIN_PASSWORD_LENGTH} characters. Leave it blank to get a one-time sign-in link to send instead.
          </p>
          <p id="new-user-password-error" className="error" hidden={!errors.password}>{errors.password}</p>
        </div>
      </div>
      <button type="submit" className="primary" id="add-user" disabled={busy}>Add user</button>
    </form>
  );
}
