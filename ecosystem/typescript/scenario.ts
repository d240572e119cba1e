// The generated TypeScript client (@hey-api/openapi-ts) against a live server.
//
// Usage: tsx typescript/scenario.ts BASE_URL SPEC GENERATED_DIR [OPERATOR_KEY]
//
// `tsc` checks this file against the generated types first (the type assertions below fail
// the build if a model field or a result degrades to `unknown`/`any` or picks up a stray
// status). At run time it checks that every operationId has its SDK function and that the
// generated types mention no `unknown`/`any`, then runs a short scenario: an application, a
// chat, three messages, pages, a search, an idempotent retry, an edit and a delete, the
// operator list, and 404s surfaced as the typed `Problem`.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { createClient } from '../gen/typescript/client';
import * as sdk from '../gen/typescript/sdk.gen';
import {
  createApplication,
  createChat,
  createMessage,
  deleteApplication,
  deleteMessage,
  getApplication,
  getChat,
  joinChat,
  listChats,
  markRead,
  getMessage,
  listApplications,
  listMessages,
  updateMessage,
} from '../gen/typescript/sdk.gen';
import type {
  Application,
  Chat,
  CreateMessageResponse,
  GetApplicationResponse,
  GetChatError,
  GetChatResponse,
  ListMessagesResponse,
  Message,
  MessageList,
  Problem,
} from '../gen/typescript/types.gen';

// Compile-time checks: the models have real field types and each operation exactly its result.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const typed = <T extends true>(): T | undefined => undefined;
typed<Equal<Message['number'], number>>();
typed<Equal<Message['body'], string>>();
typed<Equal<Message['snippet'], string | undefined>>();
typed<Equal<MessageList['data'], Array<Message>>>();
typed<Equal<Application['chats_count'], number>>();
typed<Equal<Problem['status'], number>>();
typed<Equal<Problem['code'], string>>();
typed<Equal<GetApplicationResponse, Application>>();
typed<Equal<GetChatResponse, Chat>>();
typed<Equal<GetChatError, Problem>>();
typed<Equal<CreateMessageResponse, Message>>();
typed<Equal<ListMessagesResponse, MessageList>>();

const [baseUrl, specPath, generated, operatorKey] = process.argv.slice(2);
assert.ok(baseUrl && specPath && generated, 'usage: scenario.ts BASE_URL SPEC GENERATED_DIR [OPERATOR_KEY]');

function checkGeneratedCode(): void {
  const spec = JSON.parse(readFileSync(specPath!, 'utf8'));
  const problems: string[] = [];
  for (const [path, operations] of Object.entries<Record<string, { operationId: string }>>(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const name = operation.operationId.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      if (typeof (sdk as Record<string, unknown>)[name] !== 'function') {
        problems.push(`${method.toUpperCase()} ${path}: no SDK function ${name}`);
      }
    }
  }
  const types = readFileSync(join(generated!, 'types.gen.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  for (const [index, line] of types.split('\n').entries()) {
    if (/\b(unknown|any)\b/.test(line)) problems.push(`types.gen.ts:${index + 1}: ${line.trim()}`);
  }
  assert.deepEqual(problems, [], 'generated TypeScript client is not fully typed');
  console.log(`typescript: generated code typed, ${Object.keys(spec.components.schemas).length} schemas, every operation named`);
}

/** The result is the documented problem, typed, with its fields. */
function expectProblem(
  result: { error?: Problem | undefined; response: Response },
  status: number,
  code: string,
): Problem {
  assert.equal(result.response.status, status);
  assert.equal(result.response.headers.get('content-type'), 'application/problem+json');
  const problem = result.error;
  assert.ok(problem, `no problem body for ${status}`);
  assert.equal(problem.status, status);
  assert.equal(problem.code, code);
  assert.equal(problem.type, `/problems/${code}`);
  assert.ok(problem.title && problem.detail);
  return problem;
}

async function scenario(): Promise<void> {
  const client = createClient({ baseUrl });

  const created = await createApplication({ client, body: { name: 'TypeScript scenario' } });
  assert.equal(created.response.status, 201);
  const app: Application | undefined = created.data;
  assert.ok(app);
  assert.equal(app.name, 'TypeScript scenario');
  assert.match(app.token, /^[0-9a-f-]{36}$/);
  assert.equal(created.response.headers.get('location'), `/api/applications/${app.token}`);
  const token = app.token;

  const chat = await createChat({ client, path: { token }, throwOnError: true });
  assert.equal(chat.data.number, 1);
  const chatPath = { token, chat: chat.data.number };

  const bodies = ['Hello from TypeScript', 'Is the café open?', 'Yes, until six'];
  const numbers: number[] = [];
  for (const body of bodies) {
    const message = await createMessage({ client, path: chatPath, body: { body }, throwOnError: true });
    numbers.push(message.data.number);
  }
  assert.deepEqual(numbers, [1, 2, 3]);

  const key = randomUUID();
  const once = { client, path: chatPath, body: { body: 'once' }, headers: { 'Idempotency-Key': key } };
  const first = await createMessage({ ...once, throwOnError: true });
  const retry = await createMessage({ ...once, throwOnError: true });
  assert.equal(first.data.number, 4);
  assert.equal(retry.data.number, 4);
  assert.equal(retry.response.headers.get('idempotent-replayed'), 'true');

  const page = await listMessages({ client, path: chatPath, query: { limit: 2 }, throwOnError: true });
  assert.deepEqual(page.data.data.map((m) => m.number), [1, 2]);
  assert.equal(page.data.has_more, true);
  assert.equal(page.data.next_after, 2);
  assert.equal(page.data.data[0]!.body, bodies[0]);
  const rest = await listMessages({
    client,
    path: chatPath,
    query: { limit: 2, after: page.data.next_after },
    throwOnError: true,
  });
  assert.deepEqual(rest.data.data.map((m) => m.number), [3, 4]);
  assert.equal(rest.data.has_more, false);

  const said = await createMessage({ client, path: chatPath, body: { body: 'Bob here', sender: 'bob' }, throwOnError: true });
  assert.equal(said.data.number, 5);
  assert.equal(said.data.sender, 'bob');
  const byBob = await listMessages({ client, path: chatPath, query: { sender: 'bob' }, throwOnError: true });
  assert.deepEqual(byBob.data.data.map((m) => [m.number, m.sender]), [[5, 'bob']]);

  // Read positions and the inbox: bob joined by sending; carol joins and reads up to 2.
  const readerPath = { token, number: chatPath.chat, reader: 'carol' };
  const joined = await joinChat({ client, path: readerPath, throwOnError: true });
  assert.equal(joined.response.status, 201);
  assert.equal(joined.data.last_read, 0);
  const marked = await markRead({ client, path: readerPath, body: { last_read: 2 }, throwOnError: true });
  assert.equal(marked.data.last_read, 2);
  const seen = await getChat({ client, path: { token, number: chatPath.chat }, query: { reader: 'carol' }, throwOnError: true });
  assert.deepEqual([seen.data.last_read, seen.data.unread_count, seen.data.last_message?.sender], [2, 3, 'bob']);
  const inbox = await listChats({ client, path: { token }, query: { reader: 'bob', order: 'activity' }, throwOnError: true });
  assert.deepEqual(inbox.data.data.map((c) => [c.number, c.unread_count]), [[chatPath.chat, 4]]);

  const found = await listMessages({ client, path: chatPath, query: { query: 'cafe' }, throwOnError: true });
  assert.deepEqual(found.data.data.map((m) => m.number), [2]);
  assert.ok(found.data.data[0]!.snippet?.includes('<mark>café</mark>'), found.data.data[0]!.snippet);
  const ranked = await listMessages({
    client,
    path: chatPath,
    query: { query: 'six', order: 'relevance' },
    throwOnError: true,
  });
  assert.deepEqual(ranked.data.data.map((m) => m.number), [3]);

  const edited = await updateMessage({
    client,
    path: { ...chatPath, number: 3 },
    body: { body: 'Yes, until seven' },
    throwOnError: true,
  });
  assert.equal(edited.data.body, 'Yes, until seven');
  const read = await getMessage({ client, path: { ...chatPath, number: 3 }, throwOnError: true });
  assert.equal(read.data.body, 'Yes, until seven');
  const deleted = await deleteMessage({ client, path: { ...chatPath, number: 4 } });
  assert.equal(deleted.response.status, 204);
  expectProblem(await getMessage({ client, path: { ...chatPath, number: 4 } }), 404, 'message_not_found');

  const missing = expectProblem(await getChat({ client, path: { token, number: 99 } }), 404, 'chat_not_found');
  assert.equal(missing.field, undefined);
  expectProblem(await getApplication({ client, path: { token: randomUUID() } }), 404, 'application_not_found');
  // With throwOnError the typed problem is what is thrown.
  await assert.rejects(
    createMessage({ client, path: { token, chat: 99 }, body: { body: 'lost' }, throwOnError: true }),
    (thrown: Problem) => thrown.status === 404 && thrown.code === 'chat_not_found',
  );

  if (operatorKey) {
    const operator = createClient({ baseUrl, auth: () => operatorKey });
    const listed = await listApplications({ client: operator, query: { limit: 100 }, throwOnError: true });
    assert.ok(listed.data.data.length > 0);
    assert.equal(typeof listed.data.data[0]!.token, 'string');
    expectProblem(await listApplications({ client }), 401, 'unauthorized');
  }

  const gone = await deleteApplication({ client, path: { token } });
  assert.equal(gone.response.status, 204);
  expectProblem(await getChat({ client, path: { token, number: 1 } }), 404, 'application_not_found');
  console.log('typescript: scenario passed (application, chat, messages 1-3, pages, search, retry, edit, delete, 404s)');
}

checkGeneratedCode();
await scenario();
