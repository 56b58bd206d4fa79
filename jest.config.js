// Projects: backend unit tests (node), the Grafana app (jsdom), cross-process tests in test/ (real
// Prometheus, real SQLite, child processes), the Docker images in test/image/ and the real-browser e2e
// tests in test/e2e/.
// @kubernetes/client-node is ESM-only; jest's CommonJS runtime loads it through Node's own require.
const esmOnly = { '^@kubernetes/client-node$': '<rootDir>/test/k8s/client-node.cjs' };

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', tsx: true },
      transform: { react: { runtime: 'automatic' } },
      target: 'es2022',
    },
  },
];

module.exports = {
  projects: [
    {
      displayName: 'backend',
      testEnvironment: 'node',
      roots: ['<rootDir>/backend'],
      transform: { '^.+\\.(t|j)sx?$': swc },
      moduleNameMapper: esmOnly,
    },
    {
      displayName: 'frontend',
      testEnvironment: 'jsdom',
      roots: ['<rootDir>/src'],
      setupFilesAfterEnv: ['<rootDir>/src/test-setup.ts'],
      transform: { '^.+\\.(t|j)sx?$': swc, '^.+\\.mjs$': swc },
      // ESM-only dependencies of @grafana/data and @grafana/ui must go through swc too.
      transformIgnorePatterns: [
        '/node_modules/(?!(@wojtekmaj/date-utils|mimic-function|memoize|get-user-locale|react-calendar|marked|d3|d3-[a-z-]+|internmap|delaunator|robust-predicates|ol|uuid|react-colorful|rxjs|ml-matrix|is-what|copy-anything)/)',
      ],
      moduleNameMapper: { '\\.(css|scss|svg|png)$': '<rootDir>/src/__mocks__/file.ts' },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testPathIgnorePatterns: ['/test/e2e/', '/test/image/'],
      transform: { '^.+\\.(t|j)sx?$': swc },
      moduleNameMapper: esmOnly,
    },
    {
      // The Docker images (npm run test:image builds them first).
      displayName: 'image',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/image'],
      transform: { '^.+\\.(t|j)sx?$': swc },
      moduleNameMapper: esmOnly,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/e2e'],
      transform: { '^.+\\.(t|j)sx?$': swc },
    },
  ],
};
