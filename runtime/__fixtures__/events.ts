/** Test-only event definitions for the runtime's own tests (the runtime never imports contracts/). */
import { z } from 'zod';
import { defineEvent } from '../events.ts';

export const NoteAdded = defineEvent('NoteAdded', {
  version: 1,
  topic: 'notes',
  schema: z.object({ noteId: z.string().min(1), text: z.string().max(100) }),
  key: (data) => data.noteId,
});

export const NoteArchived = defineEvent('NoteArchived', {
  version: 1,
  topic: 'notes-archived',
  schema: z.object({ noteId: z.string().min(1) }),
  key: (data) => data.noteId,
});
