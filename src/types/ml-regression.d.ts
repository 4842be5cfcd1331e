// ml-regression ships no type declarations; the packages it re-exports (used here) do.
declare module 'ml-regression' {
  import MultivariateLinearRegression = require('ml-regression-multivariate-linear');

  export { SimpleLinearRegression } from 'ml-regression-simple-linear';
  export { MultivariateLinearRegression };
}
