/**
 * Which Express the suite runs against: 5 under jest.config.js, 4 under jest.express4.config.js.
 * Guards the Express 4 run against silently testing Express 5 twice.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import express from 'express';

const expectedMajor = (globalThis as { ESS_EXPRESS_MAJOR?: number }).ESS_EXPRESS_MAJOR ?? 5;

test(`the suite runs against Express ${expectedMajor}`, () => {
  const entry = require.resolve('express');
  const { version } = JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8')) as { version: string };
  expect(Number(version.split('.')[0])).toBe(expectedMajor);
  expect(express).toBe(jest.requireActual(entry));
});
