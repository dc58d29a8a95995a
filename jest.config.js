/**
 * Jest for the pure TypeScript of src/ (field parsing, form checks, the run
 * list's sorting and filters, Compare's rows, format helpers, cron words):
 * ts-jest compiles with tsconfig.test.json; tests live in src/__tests__/.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.spec.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  moduleNameMapper: {
    '\\.(svg|css)$': '<rootDir>/src/__tests__/fileStub.js'
  }
};
