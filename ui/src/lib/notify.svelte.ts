// Errors (kept in the banner until dismissed) and short notices (toasts that fade).

import { errorMessage, errorSettings, errorTitle, type Setting } from './api';

export interface Notice {
  id: number;
  title: string;
  message: string;
  /** The settings that can fix an error (the banner names them). */
  settings: Setting[];
}

let nextId = 1;

class Notifications {
  errors = $state<Notice[]>([]);
  toasts = $state<Notice[]>([]);

  /** Show a failed command's error. `context` says what was being done. */
  error(e: unknown, context?: string): void {
    const message = errorMessage(e);
    const title = context ?? errorTitle(e);
    // The same error twice in a row is shown once.
    const last = this.errors[this.errors.length - 1];
    if (last && last.message === message && last.title === title) return;
    this.errors = [...this.errors.slice(-3), { id: nextId++, title, message, settings: errorSettings(e) }];
  }

  dismissError(id: number): void {
    this.errors = this.errors.filter((e) => e.id !== id);
  }

  clearErrors(): void {
    this.errors = [];
  }

  toast(message: string, title = ''): void {
    const id = nextId++;
    this.toasts = [...this.toasts, { id, title, message, settings: [] }];
    setTimeout(() => this.dismissToast(id), 5000);
  }

  dismissToast(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  reset(): void {
    this.errors = [];
    this.toasts = [];
  }
}

export const notify = new Notifications();

/** Run a command; on failure show its error and resolve to undefined. */
export async function attempt<T>(p: Promise<T> | (() => Promise<T>), context?: string): Promise<T | undefined> {
  try {
    return await (typeof p === 'function' ? p() : p);
  } catch (e) {
    notify.error(e, context);
    return undefined;
  }
}
