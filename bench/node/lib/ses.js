// The SES client of the seed's functions, created at module scope (as a Vercel function does
// on a cold start), or null in demo mode.
const { SESv2Client } = require('@aws-sdk/client-sesv2');

const configured = Boolean(process.env.AWS_SES_ACCESS_KEY_ID && process.env.AWS_SES_SECRET_ACCESS_KEY);
module.exports = configured
  ? new SESv2Client({
      region: process.env.AWS_SES_REGION || 'us-east-1',
      endpoint: process.env.AWS_ENDPOINT_URL_SESV2,
      credentials: {
        accessKeyId: process.env.AWS_SES_ACCESS_KEY_ID,
        secretAccessKey: process.env.AWS_SES_SECRET_ACCESS_KEY,
      },
    })
  : null;
