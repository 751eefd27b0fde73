/**
 * Which peers the suite runs against: Express 5 and ioredis 6 under jest.config.js, Express 4 and
 * ioredis 5 under jest.oldest-peers.config.js. Guards the second run against silently testing
 * the newest peers twice.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import express from 'express';
import Redis from 'ioredis';

const expected = globalThis as { ESS_EXPRESS_MAJOR?: number; ESS_IOREDIS_MAJOR?: number };

/** The major version of the package `name` whose file `entry` is, from its own package.json. */
function majorOf(entry: string, name: string): number {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
    if (manifest.name === name) return Number(manifest.version.split('.')[0]);
  }
  throw new Error(`no package.json of ${name} above ${entry}`);
}

test(`the suite runs against Express ${expected.ESS_EXPRESS_MAJOR ?? 5}`, () => {
  const entry = require.resolve('express');
  expect(majorOf(entry, 'express')).toBe(expected.ESS_EXPRESS_MAJOR ?? 5);
  expect(express).toBe(jest.requireActual(entry));
});

test(`the suite runs against ioredis ${expected.ESS_IOREDIS_MAJOR ?? 6}`, () => {
  const entry = require.resolve('ioredis');
  expect(majorOf(entry, 'ioredis')).toBe(expected.ESS_IOREDIS_MAJOR ?? 6);
  expect(Redis).toBe(jest.requireActual(entry).default ?? jest.requireActual(entry));
});
