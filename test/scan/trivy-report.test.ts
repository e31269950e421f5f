import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrivyReport, ReportError } from '../../src/scan/trivy-report.js';
import { repositoryRoot } from '../support/cli.js';
import { fixtureCounts, fullCounts, trivyFixtures } from '../support/trivy-standin.js';

const fixture = (name: string) => readFile(join(trivyFixtures, name), 'utf8');

describe("parsing Trivy's JSON report", () => {
  it('reads its fixtures from inside the repository, so a clone with nothing beside it passes', () => {
    expect(relative(repositoryRoot, trivyFixtures).startsWith('..')).toBe(false);
  });

  it.each(Object.keys(fixtureCounts))(
    'counts the findings of %s by severity as the fixture lists them',
    async (name) => {
      const report = parseTrivyReport(await fixture(name));
      expect(report.summary).toEqual(fullCounts(name));
      const total = Object.values(fixtureCounts[name] ?? {}).reduce((sum, count) => sum + count, 0);
      expect(report.findings).toHaveLength(total);
      expect(report.scannerVersion).toBe('dev');
    },
  );

  it('keeps every field of a finding, and which result it came from', async () => {
    const report = parseTrivyReport(await fixture('debian-buster.json'));
    const critical = report.findings.find((finding) => finding.severity === 'CRITICAL');
    expect(critical).toMatchObject({
      vulnerabilityId: 'CVE-2019-18224',
      installedVersion: expect.any(String),
      fixedVersion: '2.0.5-1+deb10u1',
      title: expect.stringMatching(/\S/),
      description: expect.stringMatching(/\S/),
      primaryUrl: 'https://avd.aquasec.com/nvd/cve-2019-18224',
      target: expect.stringContaining('debian 10.1'),
      class: 'os-pkgs',
      type: 'debian',
    });
    expect(critical?.pkgName).toMatch(/\S/);
    expect(critical?.references.length).toBeGreaterThan(0);
    // A finding with no fix keeps that fact, not an empty string.
    const unfixed = report.findings.find((finding) => finding.vulnerabilityId === 'CVE-2019-18276');
    expect(unfixed?.fixedVersion).toBeUndefined();
    expect(unfixed?.severity).toBe('LOW');
  });

  it('reads a lock file result (lang-pkgs) like an OS one', async () => {
    const report = parseTrivyReport(await fixture('busybox-with-lockfile.json'));
    expect(report.findings.map((finding) => [finding.target, finding.class, finding.type])).toEqual([
      ['Cargo.lock', 'lang-pkgs', 'cargo'],
      ['Cargo.lock', 'lang-pkgs', 'cargo'],
    ]);
  });

  it('counts a CVE once per affected package, as Trivy lists it', async () => {
    const report = parseTrivyReport(await fixture('alpine-310.json'));
    const ids = report.findings.map((finding) => `${finding.vulnerabilityId} ${finding.pkgName}`);
    expect(new Set(ids).size).toBe(4);
    expect(new Set(report.findings.map((finding) => finding.vulnerabilityId)).size).toBe(2);
  });

  it('accepts results whose Vulnerabilities are null or absent, and reports without Results', async () => {
    const real = JSON.parse(await fixture('centos-7.json')) as { Results: Record<string, unknown>[] };
    const first = real.Results[0] as Record<string, unknown>;
    const withEmpty = {
      ...real,
      Results: [
        { Target: 'Gemfile.lock', Class: 'lang-pkgs', Type: 'bundler', Vulnerabilities: null },
        first,
        { Target: 'package-lock.json', Class: 'lang-pkgs', Type: 'npm' },
      ],
    };
    expect(parseTrivyReport(JSON.stringify(withEmpty)).summary).toEqual(fullCounts('centos-7.json'));
    const { Results: _, ...clean } = real;
    const none = parseTrivyReport(JSON.stringify(clean));
    expect(none.findings).toEqual([]);
    expect(none.summary).toEqual({ CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
  });

  it.each([
    ['empty output', '', /no report/],
    ['a crash trace', 'panic: runtime error\ngoroutine 1 [running]:', /not a JSON report/],
    ['truncated JSON', '{"SchemaVersion": 2, "Results": [', /not a JSON report/],
    ['another schema version', '{"SchemaVersion": 1, "Results": []}', /SchemaVersion/],
    ['the old list format', '[{"Target": "alpine", "Vulnerabilities": null}]', /expected format/],
    [
      'a finding without an ID',
      '{"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": [{"PkgName": "a"}]}]}',
      /Results\.0\.Vulnerabilities\.0\.VulnerabilityID/,
    ],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseTrivyReport(text)).toThrow(ReportError);
    expect(() => parseTrivyReport(text)).toThrow(message);
  });
});
