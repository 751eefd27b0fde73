/**
 * Turns the measurements into the Markdown report written to bench/RESULTS.md (or the quick
 * run's file): the machine, the settings, the main table, login, memory and scaling; and `putSection`, which
 * the scripts that write a section of their own (live, express-cost) write it with.
 */
'use strict';
const fs = require('node:fs');

/** The median of a list of numbers (the mean of the middle two for an even count). */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fixed = (value, digits = 0) => (value === undefined || value === null || Number.isNaN(value) ? 'n/a' : value.toFixed(digits));
const ratio = (value) => (value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toFixed(2)}x`);
const row = (cells) => `| ${cells.join(' | ')} |`;

/** Renders the report from what run.js measured. */
function renderReport({ machine, settings, apps, scaling, clients }) {
  const lines = [
    `# Benchmark results${settings.quick ? ' (quick mode: indicative only)' : ''}`,
    '',
    `Measured ${machine.date} with \`${settings.command}\`.`,
    '',
    `- Machine: ${machine.cpus} CPUs (${machine.cpuModel}), load average ${machine.loadBefore} before and ${machine.loadAfter} after the run (other work shared the CPUs).`,
    `- Node ${machine.node}, Redis ${machine.redis} (private server, no persistence), ${machine.packages}.`,
    `- Load: autocannon in its own process, ${settings.connections} connections, one request at a time per connection; apps ${apps.map((app) => app.key).join(', ')} in turn, ${settings.rounds} round(s) of ${settings.seconds} s each. Each app is its own Node process with its own Redis database on the same server (and this package's apps their own key prefix, since Redis tracks keys for the local cache by name across databases).`,
    '- Ratios are the median over rounds of the ratio measured side by side in the same round. CPU µs per request is the CPU time the app process (and the Redis server) used during a round divided by the requests served: it is less sensitive than req/s to other work on the machine.',
    '- Redis commands are counted with MONITOR over a sample of requests; a script (EVALSHA) counts as one command, its inner calls not at all.',
    '',
    '## Protected route: `GET /me` for a signed-in user',
    '',
    row(['App', 'req/s (median)', 'vs express-session', 'vs bare Express', 'vs floor F', 'p50 ms', 'p99 ms', 'app CPU µs/req', 'Redis CPU µs/req', 'Redis commands per signed-in request', 'per anonymous request']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const app of apps) {
    lines.push(row([
      `${app.key}. ${app.label}`, fixed(app.rps), ratio(app.vsSession), ratio(app.vsBare), ratio(app.vsFloor), fixed(app.p50), fixed(app.p99), fixed(app.appCpu), fixed(app.redisCpu, 1),
      fixed(app.commandsPerRequest, 2), fixed(app.commandsPerAnonymous, 2),
    ]));
  }
  lines.push(
    '',
    `D on node-redis against D on ioredis, side by side in the same rounds: ${ratio(clients.rps)} the requests/s, ${ratio(clients.appCpu)} the app CPU per request, ${ratio(clients.p99)} the p99 latency.`,
  );
  lines.push(
    '',
    `## Login and memory (\`POST /login\` of new users for ${settings.loginSeconds} s, ${settings.loginRounds} round(s), ${settings.connections} connections; memory is Redis \`used_memory\` growth over the first round's users)`,
    '',
    row(['App', 'logins/s (median)', 'Redis commands per login', 'Redis bytes per signed-in user']),
    row(['---', '---:', '---:', '---:']),
  );
  for (const app of apps) {
    lines.push(row([`${app.key}. ${app.label}`, fixed(app.loginRps), fixed(app.commandsPerLogin, 2), app.bytesPerUser === undefined || app.storesNothing ? 'n/a (no sessions)' : fixed(app.bytesPerUser)]));
  }
  lines.push(
    '',
    `## Flat cost as sessions grow (express-single-session, ${scaling.rounds} round(s) of ${scaling.seconds} s each, side by side)`,
    '',
    row(['Live sessions in the database', 'req/s (median)', 'mean ms', 'p50 ms', 'p99 ms']),
    row(['---:', '---:', '---:', '---:', '---:']),
  );
  for (const level of scaling.levels) {
    lines.push(row([level.sessions.toLocaleString('en-US'), fixed(level.rps), fixed(level.mean, 2), fixed(level.p50), fixed(level.p99)]));
  }
  lines.push(
    '',
    `Mean latency with ${scaling.levels[1].sessions.toLocaleString('en-US')} sessions is ${ratio(scaling.meanRatio)} that with ${scaling.levels[0].sessions.toLocaleString('en-US')}; filling them took ${fixed(scaling.fillSeconds, 1)} s (${fixed(scaling.fillRate)} logins/s through \`sessions.login()\` with pipelined EVALSHA) and ${fixed(scaling.bytesPerSession)} bytes of Redis memory per session.`,
    '',
  );
  return lines.join('\n');
}

/**
 * Puts `section` (which starts with `heading`) into the Markdown file `file` in place of the section with that
 * heading, or at its end; for the scripts that write their own section of bench/RESULTS.md.
 */
function putSection(file, heading, section) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const start = text.indexOf(heading);
  const end = start === -1 ? -1 : text.indexOf('\n## ', start + 1);
  const updated = start !== -1
    ? `${text.slice(0, start)}${section}${end === -1 ? '' : text.slice(end)}`
    : text.trim() ? `${text.trimEnd()}\n\n${section}` : section;
  fs.writeFileSync(file, updated);
}

module.exports = { median, putSection, renderReport };
