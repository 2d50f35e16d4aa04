// ESLint (flat config) for the site's plain ES modules in frontend/js: `make lint` runs it with zero findings allowed.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['frontend/js/**/*.js'],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: {
        ...globals.browser,
        AmazonCognitoIdentity: 'readonly', // vendor/amazon-cognito-identity.min.js, a plain script before the modules
      },
    },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
      'no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-implicit-globals': 'error',
      'no-shadow': 'error',
      'no-use-before-define': ['error', { functions: false, classes: true, variables: false }],
      // Album text reaches the page only through textContent / createElement (dom.js): never as HTML.
      'no-restricted-properties': [
        'error',
        { property: 'innerHTML', message: 'Build nodes with dom.js el() / textContent.' },
        { property: 'outerHTML', message: 'Build nodes with dom.js el() / textContent.' },
        { property: 'insertAdjacentHTML', message: 'Build nodes with dom.js el() / textContent.' },
      ],
      'no-eval': 'error',
      'no-implied-eval': 'error',
    },
  },
];
